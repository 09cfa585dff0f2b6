// Server-side apply, JSON patch, managedFields and fieldValidation through the admin API, in process: a
// real Store on a temp SQLite file, requests through Hono's app.request().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromWire, resourceToWire, type ResourceObject, type Token } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret, randomToken } from '../auth/secrets.js';
import { ManualClock } from '../clock.js';
import { Presence } from '../gateway/presence.js';
import { Store } from '../store/store.js';
import { createApi } from './app.js';

type Json = any;
const GV = 'outpost.dev/v1alpha1';
const API = `/apis/${GV}`;
const CLUSTERS = `${API}/namespaces/demo/clusters`;
const POS = `${CLUSTERS}/pos`;
const APPLY = 'application/apply-patch+yaml';
const JSON_PATCH = 'application/json-patch+json';

let dir: string;
let store: Store;
let presence: Presence;
let app: ReturnType<typeof createApi>;
let admin: string;

interface Reply {
  status: number;
  body: Json;
  res: Response;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...headers };
  const res = await app.request(path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json, res };
}

const apply = (yaml: string, query = 'fieldManager=ci', path = POS): Promise<Reply> => call('PATCH', `${path}?${query}`, yaml, { 'content-type': APPLY });
const jsonPatch = (ops: unknown, query = ''): Promise<Reply> => call('PATCH', `${POS}${query ? `?${query}` : ''}`, ops, { 'content-type': JSON_PATCH });
const revision = (): number => store.revision();
const managers = (o: Json): string[] => (o.metadata.managedFields ?? []).map((m: Json) => `${m.manager}/${m.operation}`);

const clusterYaml = (version = '1.33.0', extra = ''): string => `apiVersion: ${GV}
kind: Cluster
metadata:
  name: pos
  labels:
    team: a
spec:
  version: "${version}"
  datacenter: hamburg-stores
  controlPlane:
    mode: kubeadm
${extra}`;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-apply-'));
  const clock = new ManualClock(new Date('2026-12-01T09:00:00Z'));
  store = new Store(join(dir, 'hub.db'), { clock });
  presence = new Presence(store, { clock });
  app = createApi({ store, presence, clock, caCertPem: 'test', version: '0.0.0-test' });
  const secret = randomToken(32);
  store.create({ apiVersion: GV, kind: 'Token', metadata: { name: 'admin1' }, spec: { type: 'api', role: 'admin' } } as Token, { actor: 'test' });
  store.putCredential('token/admin1', 'api', hashSecret(secret));
  admin = `admin1.${secret}`;
  for (const [path, obj] of [
    [`${API}/projects`, { apiVersion: GV, kind: 'Project', metadata: { name: 'demo' }, spec: {} }],
    [`${API}/sites`, { apiVersion: GV, kind: 'Site', metadata: { name: 'store-0412' }, spec: {} }],
    [`${API}/datacenters`, { apiVersion: GV, kind: 'Datacenter', metadata: { name: 'hamburg-stores' }, spec: { provider: 'edge', site: 'store-0412' } }],
  ] as const) expect((await call('POST', path, obj)).status).toBe(201);
});

afterEach(() => {
  presence.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('server-side apply', () => {
  it('needs a fieldManager, naming it', async () => {
    const r = await apply(clusterYaml(), '');
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/server-side apply needs \?fieldManager=NAME/);
  });

  it('creates the object from YAML, then merges a re-apply and removes what the manager no longer sends', async () => {
    const created = await apply(clusterYaml());
    expect(created.status).toBe(201);
    expect(created.body.spec).toEqual({ version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm' } });
    expect(created.body.metadata.managedFields).toEqual([
      {
        manager: 'ci',
        operation: 'Apply',
        apiVersion: GV,
        time: '2026-12-01T09:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } }, 'f:spec': { 'f:controlPlane': { 'f:mode': {} }, 'f:datacenter': {}, 'f:version': {} } },
      },
    ]);
    const changed = await apply(clusterYaml('1.34.0').replace('  labels:\n    team: a\n', ''));
    expect(changed.status).toBe(200);
    expect(changed.body.spec.version).toBe('1.34.0');
    expect(changed.body.metadata.labels).toBeUndefined();
    expect(changed.body.metadata.generation).toBe(2);
  });

  it('writes nothing when a re-apply changes nothing', async () => {
    await apply(clusterYaml());
    const before = revision();
    const again = await apply(clusterYaml());
    expect(again.status).toBe(200);
    expect(revision()).toBe(before);
  });

  it('answers 409 Conflict naming each field and its manager, and force takes them', async () => {
    await apply(clusterYaml());
    const before = revision();
    const r = await apply(clusterYaml('1.34.0', '  network:\n    cni: bridge\n'), 'fieldManager=other');
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    expect(r.body.message).toMatch(/^Apply failed with 1 conflict: conflict with "ci": \.spec\.version\n/);
    expect(r.body.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "ci"', field: '.spec.version' }]);
    expect(revision()).toBe(before);
    const forced = await apply(clusterYaml('1.34.0', '  network:\n    cni: bridge\n'), 'fieldManager=other&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.spec).toMatchObject({ version: '1.34.0', network: { cni: 'bridge' } });
    const fields = Object.fromEntries(forced.body.metadata.managedFields.map((m: Json) => [m.manager, m.fieldsV1]));
    expect(fields.ci['f:spec']['f:version']).toBeUndefined();
    expect(fields.other['f:spec']['f:version']).toEqual({});
  });

  it('conflicts with an Update manager too, named with its API version', async () => {
    await apply(clusterYaml());
    expect((await call('PATCH', `${POS}?fieldManager=kubectl-edit`, { spec: { version: '1.33.1' } }, { 'content-type': 'application/merge-patch+json' })).status).toBe(200);
    const r = await apply(clusterYaml('1.33.2'));
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(`conflict with "kubectl-edit" using ${GV}: .spec.version`);
  });

  it('runs admission, and dryRun=All rehearses it whole and writes nothing', async () => {
    const bad = await apply(clusterYaml('one'));
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: Json) => c.field)).toEqual(['spec.version']);
    const dry = await apply(clusterYaml(), 'fieldManager=ci&dryRun=All');
    expect(dry.status).toBe(201);
    expect(managers(dry.body)).toEqual(['ci/Apply']);
    expect(store.get('Cluster', 'demo', 'pos')).toBeUndefined();
    await apply(clusterYaml());
    const before = revision();
    const dryConflict = await apply(clusterYaml('1.34.0'), 'fieldManager=other&dryRun=All');
    expect(dryConflict.status).toBe(409);
    expect((await apply(clusterYaml('1.34.0'), 'fieldManager=other&dryRun=All&force=true')).body.spec.version).toBe('1.34.0');
    expect(revision()).toBe(before);
    expect(store.get<ResourceObject<Json>>('Cluster', 'demo', 'pos')!.spec.version).toBe('1.33.0');
  });

  it('refuses force outside apply, managedFields in the configuration and bad YAML', async () => {
    await apply(clusterYaml());
    const force = await call('PATCH', `${POS}?force=true`, { spec: {} }, { 'content-type': 'application/merge-patch+json' });
    expect(force.status).toBe(400);
    expect(force.body.message).toMatch(/force is only for server-side apply/);
    const owned = await apply(clusterYaml().replace('metadata:\n', 'metadata:\n  managedFields: [{manager: x, operation: Apply}]\n'));
    expect(owned.status).toBe(400);
    expect(owned.body.message).toMatch(/must not set metadata.managedFields/);
    expect((await apply('kind: [unclosed')).status).toBe(400);
    expect((await apply(`${clusterYaml()}---\n${clusterYaml()}`)).body.message).toMatch(/one object, not 2 YAML documents/);
  });
});

describe('server-side apply of /status', () => {
  const statusYaml = (body: string): string => `apiVersion: ${GV}\nkind: Cluster\nmetadata: {name: pos}\nspec: {version: "9.9.9"}\nstatus:\n${body}`;
  const applyStatus = (body: string, query: string): Promise<Reply> => apply(statusYaml(body), query, `${POS}/status`);

  it('applies status alone, merging conditions by type between managers, with conflicts and force', async () => {
    await apply(clusterYaml());
    const first = await applyStatus('  phase: Running\n  conditions: [{type: Ready, status: "True"}]\n', 'fieldManager=prober');
    expect(first.status).toBe(200);
    expect(first.body.spec.version).toBe('1.33.0');
    expect(first.body.status).toEqual({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    const entry = first.body.metadata.managedFields.find((m: Json) => m.manager === 'prober');
    expect(entry).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {}, 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:type': {}, 'f:status': {} } } } } });
    const second = await applyStatus('  conditions: [{type: Synced, status: "False"}]\n', 'fieldManager=syncer');
    expect(second.body.status.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'Synced', status: 'False' }]);
    const conflict = await applyStatus('  phase: Failed\n', 'fieldManager=syncer');
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toMatch(/^Apply failed with 1 conflict: conflict with "prober": \.status\.phase/);
    expect((await applyStatus('  phase: Failed\n', 'fieldManager=syncer&force=true')).body.status.phase).toBe('Failed');
    // The main resource's apply leaves status and its managers alone.
    const main = await apply(clusterYaml('1.33.1'));
    expect(main.body.status.conditions).toHaveLength(2);
    expect(managers(main.body)).toEqual(['ci/Apply', 'prober/Apply', 'syncer/Apply']);
  });

  it('conflicts with a status nobody managed, records status Updates, and needs the object', async () => {
    expect((await applyStatus('  phase: Running\n', 'fieldManager=prober')).status).toBe(404);
    await apply(clusterYaml());
    store.replaceStatus({ kind: 'Cluster', namespace: 'demo', name: 'pos' }, { phase: 'Creating' }, { actor: 'agent' });
    expect((await applyStatus('  phase: Running\n', 'fieldManager=prober')).body.message).toMatch('conflict with "before-first-apply"');
    const patched = await call('PATCH', `${POS}/status?fieldManager=operator`, { status: { phase: 'Running' } }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.body.metadata.managedFields.find((m: Json) => m.manager === 'operator')).toMatchObject({ operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
  });
});

describe('managedFields of other writes', () => {
  it('records an Update for POST, PUT and merge patch, from ?fieldManager or the User-Agent', async () => {
    const created = await call('POST', CLUSTERS, { apiVersion: GV, kind: 'Cluster', metadata: { name: 'pos' }, spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm' } } }, { 'user-agent': 'kubectl-create/v1.33.0 (linux/amd64) kubernetes/abc' });
    expect(created.status).toBe(201);
    expect(managers(created.body)).toEqual(['kubectl-create/Update']);
    // A PUT of what GET answered (managedFields and all) passes the shape check.
    const got = (await call('GET', POS)).body;
    const put = await call('PUT', `${POS}?fieldManager=editor`, { ...got, spec: { ...got.spec, version: '1.33.1' } });
    expect(put.status).toBe(200);
    expect(managers(put.body)).toEqual(['kubectl-create/Update', 'editor/Update']);
    // Without a User-Agent, the caller's name.
    const patched = await call('PATCH', POS, { metadata: { labels: { a: 'b' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(managers(patched.body)).toEqual(['kubectl-create/Update', 'editor/Update', 'admin1/Update']);
    // Agents never get managedFields on the wire.
    expect(resourceFromWire(resourceToWire(patched.body, false))!.metadata.managedFields).toBeUndefined();
  });

  it('clears managedFields when a write sends [{}], as in Kubernetes', async () => {
    await apply(clusterYaml());
    const r = await call('PATCH', POS, { metadata: { managedFields: [{}] } }, { 'content-type': 'application/merge-patch+json' });
    expect(r.status).toBe(200);
    expect(r.body.metadata.managedFields).toBeUndefined();
  });

  it('refuses managedFields it cannot read, naming the entry', async () => {
    await apply(clusterYaml());
    const got = (await call('GET', POS)).body;
    const badTrie = await call('PUT', POS, { ...got, metadata: { ...got.metadata, managedFields: [{ manager: 'x', operation: 'Update', fieldsV1: { 'spec': {} } }] } });
    expect(badTrie.status).toBe(400);
    expect(badTrie.body.message).toMatch(/metadata.managedFields\[0\].fieldsV1 is malformed: "spec" is not a FieldsV1 path element/);
    const badOp = await call('PUT', POS, { ...got, metadata: { ...got.metadata, managedFields: [{ manager: 'x', operation: 'Replace' }] } });
    expect(badOp.body.message).toMatch(/metadata.managedFields\[0\].operation must be Apply or Update/);
    const notObject = await call('PUT', POS, { ...got, metadata: { ...got.metadata, managedFields: [{ manager: 'x', operation: 'Update', fieldsV1: 'f:spec' }] } });
    expect(notObject.status).toBe(422);
    expect(notObject.body.details.causes[0]).toMatchObject({ field: 'metadata.managedFields[0].fieldsV1', message: 'must be an object, not string "f:spec"' });
    // The OpenAPI document says the same: fieldsV1 is any JSON object.
    const doc = await call('GET', '/openapi.json');
    expect(doc.body.components.schemas.ManagedFieldsEntry.properties.fieldsV1).toMatchObject({ type: 'object', additionalProperties: true });
  });

  it('refuses a malformed fieldManager', async () => {
    const r = await call('PATCH', `${POS}?fieldManager=${'x'.repeat(129)}`, {}, { 'content-type': 'application/merge-patch+json' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/1 to 128 printable ASCII characters/);
  });
});

describe('JSON patch', () => {
  it('applies operations to the current object and records the manager', async () => {
    await apply(clusterYaml());
    const r = await jsonPatch([{ op: 'test', path: '/spec/version', value: '1.33.0' }, { op: 'replace', path: '/spec/version', value: '1.33.1' }, { op: 'add', path: '/metadata/labels/env', value: 'prod' }], 'fieldManager=kubectl-patch');
    expect(r.status).toBe(200);
    expect(r.body.spec.version).toBe('1.33.1');
    expect(r.body.metadata.labels).toEqual({ team: 'a', env: 'prod' });
    expect(managers(r.body)).toEqual(['ci/Apply', 'kubectl-patch/Update']);
  });

  it('answers 422 naming a failed test op, 400 for a malformed patch, and writes nothing', async () => {
    await apply(clusterYaml());
    const before = revision();
    const test = await jsonPatch([{ op: 'test', path: '/spec/version', value: '9.9.9' }]);
    expect(test.status).toBe(422);
    expect(test.body.message).toMatch(/operation 0 \(test \/spec\/version\) failed/);
    expect((await jsonPatch({ op: 'add' })).status).toBe(400);
    expect((await jsonPatch([{ op: 'nope', path: '/spec' }])).status).toBe(400);
    expect((await call('PATCH', POS, '[{"op":', { 'content-type': JSON_PATCH })).status).toBe(400);
    expect(revision()).toBe(before);
  });

  it('runs the shape check, admission and optimistic concurrency as merge patch does', async () => {
    await apply(clusterYaml());
    const shape = await jsonPatch([{ op: 'add', path: '/spec/replicas', value: 3 }]);
    expect(shape.status).toBe(422);
    expect(shape.body.details.causes[0].field).toBe('spec.replicas');
    expect((await jsonPatch([{ op: 'replace', path: '/spec/version', value: 'one' }])).status).toBe(422);
    const immutable = await jsonPatch([{ op: 'replace', path: '/spec/datacenter', value: 'elsewhere' }]);
    expect(immutable.status).toBe(422);
    const stale = await jsonPatch([{ op: 'replace', path: '/metadata/resourceVersion', value: '1' }, { op: 'replace', path: '/spec/version', value: '1.34.0' }]);
    expect(stale.status).toBe(409);
  });

  it('patches /status too, with fieldValidation', async () => {
    await apply(clusterYaml());
    const r = await call('PATCH', `${POS}/status`, [{ op: 'add', path: '/status', value: { phase: 'Running' } }], { 'content-type': JSON_PATCH });
    expect(r.status).toBe(200);
    expect(r.body.status).toEqual({ phase: 'Running' });
    const strict = await call('PATCH', `${POS}/status`, [{ op: 'add', path: '/status/mood', value: 'calm' }], { 'content-type': JSON_PATCH });
    expect(strict.status).toBe(422);
    const warned = await call('PATCH', `${POS}/status?fieldValidation=Warn`, [{ op: 'add', path: '/status/mood', value: 'calm' }], { 'content-type': JSON_PATCH });
    expect(warned.status).toBe(200);
    expect(warned.res.headers.get('warning')).toBe('299 - "unknown field \\"status.mood\\""');
  });
});

describe('fieldValidation', () => {
  const withUnknown = { apiVersion: GV, kind: 'Cluster', metadata: { name: 'pos' }, spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm' }, colour: 'red' } };

  it('Strict (and no value) refuses unknown fields', async () => {
    for (const q of ['', '?fieldValidation=Strict']) {
      const r = await call('POST', `${CLUSTERS}${q}`, withUnknown);
      expect(r.status).toBe(422);
      expect(r.body.details.causes[0].field).toBe('spec.colour');
    }
  });

  it('Warn drops them and says so in a Warning header; Ignore drops them silently', async () => {
    const warn = await call('POST', `${CLUSTERS}?fieldValidation=Warn`, withUnknown);
    expect(warn.status).toBe(201);
    expect(warn.body.spec.colour).toBeUndefined();
    expect(warn.res.headers.get('warning')).toBe('299 - "unknown field \\"spec.colour\\""');
    const applied = await apply(clusterYaml('1.33.0', '  shape: round\n'), 'fieldManager=ci&fieldValidation=Warn');
    expect(applied.status).toBe(200);
    expect(applied.res.headers.get('warning')).toBe('299 - "unknown field \\"spec.shape\\""');
    const ignored = await jsonPatch([{ op: 'add', path: '/spec/size', value: 'xl' }], 'fieldValidation=Ignore');
    expect(ignored.status).toBe(200);
    expect(ignored.body.spec.size).toBeUndefined();
    expect(ignored.res.headers.get('warning')).toBeNull();
  });

  it('refuses a value it does not know', async () => {
    const r = await call('POST', `${CLUSTERS}?fieldValidation=Lax`, withUnknown);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/fieldValidation=Lax is not one of Strict, Warn, Ignore/);
  });
});
