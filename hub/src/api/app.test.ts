// The admin API in process: a real Store on a temp SQLite file, requests through Hono's app.request().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, rfc3339, type Token } from '@outpost/proto';
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
const SITES = `${API}/sites`;

let dir: string;
let store: Store;
/** Stands still from the start of each test; a test moves it instead of sleeping. */
let clock: ManualClock;
let presence: Presence;
let app: ReturnType<typeof createApi>;
let admin: string;

/** Makes an API token the way `outpost hub init` does: a Token object plus the hash of its secret. */
function apiToken(id: string, spec: Token['spec']): string {
  const secret = randomToken(32);
  store.create({ apiVersion: GV, kind: 'Token', metadata: { name: id }, spec } as Token, { actor: 'test' });
  store.putCredential(`token/${id}`, 'api', hashSecret(secret));
  return `${id}.${secret}`;
}

interface Reply {
  status: number;
  body: Json;
  res: Response;
}

async function call(method: string, path: string, body?: unknown, token: string | null = admin, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined && !h['content-type']) h['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  const res = await app.request(path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: Json = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (healthz, CA): keep the text
  }
  return { status: res.status, body: parsed, res };
}

/** Asserts a Kubernetes Status error body. */
function expectStatus(r: Reply, code: number, reason: string, message?: RegExp): void {
  expect({ status: r.status, kind: r.body?.kind, reason: r.body?.reason, code: r.body?.code }).toEqual({ status: code, kind: 'Status', reason, code });
  expect(r.body.status).toBe('Failure');
  if (message) expect(r.body.message).toMatch(message);
}

const causeFields = (r: Reply): string[] => (r.body?.details?.causes ?? []).map((c: { field: string }) => c.field);

const project = { apiVersion: GV, kind: 'Project', metadata: { name: 'demo' }, spec: {} };
const site = { apiVersion: GV, kind: 'Site', metadata: { name: 'store-0412' }, spec: { location: 'Hamburg, Mönckebergstraße 7' } };
const datacenter = { apiVersion: GV, kind: 'Datacenter', metadata: { name: 'hamburg-stores' }, spec: { provider: 'edge', site: 'store-0412' } };
const cluster = (over: Json = {}, name = 'pos'): Json => ({
  apiVersion: GV,
  kind: 'Cluster',
  metadata: { name, namespace: 'demo' },
  spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 }, ...over },
});

/** The manifest: Project demo, Site store-0412, Datacenter hamburg-stores (and Cluster pos unless told not to). */
async function seed(withCluster = true): Promise<void> {
  expect((await call('POST', `${API}/projects`, project)).status).toBe(201);
  expect((await call('POST', SITES, site)).status).toBe(201);
  expect((await call('POST', `${API}/datacenters`, datacenter)).status).toBe(201);
  if (withCluster) expect((await call('POST', CLUSTERS, cluster())).status).toBe(201);
}

const revision = async (): Promise<number> => (await call('GET', '/version', undefined, null)).body.revision;

/** A watch's events, one at a time; a test fails when none comes within 2 s. */
async function openWatch(path: string, headers: Record<string, string> = {}): Promise<{ next(): Promise<Json>; close(): Promise<void> }> {
  const res = await app.request(path, { headers: { authorization: `Bearer ${admin}`, ...headers } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    async next() {
      while (!buffered.includes('\n')) {
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no watch event within 2 s')), 2000)),
        ]);
        if (chunk.done) throw new Error('watch stream ended');
        buffered += decoder.decode(chunk.value, { stream: true });
      }
      const nl = buffered.indexOf('\n');
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      return JSON.parse(line);
    },
    close: () => reader.cancel(),
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-api-'));
  clock = new ManualClock(new Date());
  store = new Store(join(dir, 'hub.db'), { clock });
  presence = new Presence(store, { clock });
  app = createApi({ store, presence, clock, caCertPem: '-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n', version: '0.0.0-test' });
  admin = apiToken('admin1', { type: 'api', role: 'admin' });
});

afterEach(() => {
  presence.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('authentication and authorization', () => {
  it('answers 401 without a token or with a bad one', async () => {
    const none = await call('GET', SITES, undefined, null);
    expectStatus(none, 401, 'Unauthorized', /no valid API token/);
    const wrongSecret = await call('GET', SITES, undefined, `admin1.${'x'.repeat(32)}`);
    expectStatus(wrongSecret, 401, 'Unauthorized', /not recognised/);
    const unknownId = await call('GET', SITES, undefined, `zzzzzz.${'x'.repeat(32)}`);
    expectStatus(unknownId, 401, 'Unauthorized', /not recognised/);
    const malformed = await call('GET', SITES, undefined, 'nodot');
    expectStatus(malformed, 401, 'Unauthorized');
  });

  it('refuses an expired API token', async () => {
    const old = apiToken('old001', { type: 'api', role: 'admin', expires: '2000-01-01T00:00:00Z' });
    expectStatus(await call('GET', SITES, undefined, old), 401, 'Unauthorized', /expired/);
  });

  it('keeps an editor to the clusters of its project', async () => {
    await seed();
    const other = { ...project, metadata: { name: 'other' } };
    expect((await call('POST', `${API}/projects`, other)).status).toBe(201);
    const editor = apiToken('edit01', { type: 'api', role: 'editor', project: 'demo' });

    const siteWrite = await call('POST', SITES, { ...site, metadata: { name: 'store-0413' } }, editor);
    expectStatus(siteWrite, 403, 'Forbidden', /may not create sites.*only admins see infrastructure/);
    const otherProject = await call('GET', `${API}/namespaces/other/clusters`, undefined, editor);
    expectStatus(otherProject, 403, 'Forbidden', /bound to project demo/);
    const noProject = await call('GET', `${API}/clusters`, undefined, editor);
    expectStatus(noProject, 403, 'Forbidden', /name the project/);

    const own = await call('GET', CLUSTERS, undefined, editor);
    expect(own.status).toBe(200);
    expect(own.body.items.map((c: Json) => c.metadata.name)).toEqual(['pos']);
    const created = await call('POST', CLUSTERS, cluster({}, 'pos-2'), editor);
    expect(created.status).toBe(201);
    expect((await call('GET', `${SITES}/store-0412`, undefined, editor)).status).toBe(403);
  });

  it('lets a viewer read but not delete', async () => {
    await seed();
    const viewer = apiToken('view01', { type: 'api', role: 'viewer', project: 'demo' });
    expect((await call('GET', `${CLUSTERS}/pos`, undefined, viewer)).status).toBe(200);
    expectStatus(await call('DELETE', `${CLUSTERS}/pos`, undefined, viewer), 403, 'Forbidden', /viewers only read/);
    expect((await call('GET', `${CLUSTERS}/pos`)).status).toBe(200);
  });
});

describe('create, get, list', () => {
  it('creates the issue manifest and fills in metadata', async () => {
    const rev0 = await revision();
    const p = await call('POST', `${API}/projects`, project);
    expect(p.status).toBe(201);
    const s = await call('POST', SITES, site);
    expect(s.status).toBe(201);
    expect(s.body).toMatchObject({ apiVersion: GV, kind: 'Site', metadata: { name: 'store-0412', generation: 1 }, spec: site.spec });
    expect(s.body.metadata.namespace ?? '').toBe('');
    expect(s.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.body.metadata.resourceVersion).toBe(String(rev0 + 2));
    expect(Date.parse(s.body.metadata.creationTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect((await call('POST', `${API}/datacenters`, datacenter)).status).toBe(201);

    const sentStatus = { phase: 'Running', conditions: [{ type: 'Received', status: 'True' }] };
    const c = await call('POST', CLUSTERS, { ...cluster(), status: sentStatus });
    expect(c.status).toBe(201);
    expect(c.body.metadata).toMatchObject({ name: 'pos', namespace: 'demo', generation: 1, resourceVersion: String(rev0 + 4) });
    expect(c.body.metadata.uid).toBeTruthy();
    expect(c.body.metadata.uid).not.toBe(s.body.metadata.uid);
    expect(c.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(c.body.status).toBeUndefined();
    expect(await revision()).toBe(rev0 + 4);

    const got = await call('GET', `${CLUSTERS}/pos`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(c.body);
    expect(got.body.spec).toEqual({ version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 } });
    // Received comes from agents, never from a create.
    expect((got.body.status?.conditions ?? []).map((x: Json) => x.type)).not.toContain('Received');

    const sites = await call('GET', SITES);
    expect(sites.status).toBe(200);
    expect(sites.body.kind).toBe('SiteList');
    expect(sites.body.items.map((x: Json) => x.metadata.name)).toEqual(['store-0412']);
  });

  it('lists with kind, resourceVersion and items, and filters by labelSelector', async () => {
    await seed();
    expect((await call('POST', CLUSTERS, cluster({}, 'pos-a'))).status).toBe(201);
    const labelled = cluster({}, 'pos-b');
    labelled.metadata.labels = { a: 'b', tier: 'pos' };
    expect((await call('POST', CLUSTERS, labelled)).status).toBe(201);

    const all = await call('GET', CLUSTERS);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ apiVersion: GV, kind: 'ClusterList', metadata: { resourceVersion: String(await revision()) } });
    expect(all.body.items.map((x: Json) => x.metadata.name)).toEqual(['pos', 'pos-a', 'pos-b']);

    const sel = await call('GET', `${CLUSTERS}?labelSelector=a=b`);
    expect(sel.status).toBe(200);
    expect(sel.body.items.map((x: Json) => x.metadata.name)).toEqual(['pos-b']);
    const two = await call('GET', `${CLUSTERS}?labelSelector=${encodeURIComponent('a=b,tier=other')}`);
    expect(two.body.items).toEqual([]);
    expect((await call('GET', `${CLUSTERS}?labelSelector=a`)).body.items.map((x: Json) => x.metadata.name)).toEqual(['pos-b']);
    expectStatus(await call('GET', `${CLUSTERS}?labelSelector=${encodeURIComponent('tier!')}`), 400, 'BadRequest', /labelSelector "tier!" is not a label selector: found '!' after key "tier", expected one of in, notin, =, ==, !=/);

    // An admin lists across projects without /namespaces.
    const across = await call('GET', `${API}/clusters`);
    expect(across.body.items).toHaveLength(3);
  });

  it('answers 404 for missing objects and unknown paths', async () => {
    await seed(false);
    expectStatus(await call('GET', `${CLUSTERS}/nope`), 404, 'NotFound', /Cluster "nope" in project "demo" not found/);
    expectStatus(await call('GET', `${API}/widgets`), 404, 'NotFound');
    expectStatus(await call('GET', `${API}/namespaces/demo/sites`), 404, 'NotFound', /not in a project/);
    expectStatus(await call('GET', '/nowhere'), 404, 'NotFound', /no such path \/nowhere/);
  });
});

describe('validation', () => {
  let before: number;
  beforeEach(async () => {
    await seed(false);
    before = await revision();
  });
  afterEach(async () => {
    // A refused request writes nothing.
    expect(await revision()).toBe(before);
    expect((await call('GET', CLUSTERS)).body.items).toEqual([]);
  });

  it('refuses a version that is not a Kubernetes version', async () => {
    const r = await call('POST', CLUSTERS, cluster({ version: 'not-a-version' }));
    expectStatus(r, 422, 'Invalid', /spec\.version: "not-a-version" is not a Kubernetes version/);
    expect(causeFields(r)).toEqual(['spec.version']);
    expect(r.body.details.causes[0].reason).toBe('FieldValueInvalid');
  });

  it('refuses an unknown field', async () => {
    const r = await call('POST', CLUSTERS, cluster({ bogus: true }));
    expectStatus(r, 422, 'Invalid', /spec\.bogus: unknown field/);
    expect(causeFields(r)).toEqual(['spec.bogus']);
  });

  it('names the object as its manifest does, and gathers shape and admission problems in one answer', async () => {
    const r = await call('POST', CLUSTERS, cluster({ version: 'one', datacenter: 'atlantis', controlPlane: { mode: 'kubeadm', replicas: 'three' }, bogus: 1 }, 'shop-12'));
    expectStatus(r, 422, 'Invalid', /^Cluster "shop-12" in project "demo" is invalid: /);
    expect(causeFields(r).sort()).toEqual(['spec.bogus', 'spec.controlPlane.replicas', 'spec.datacenter', 'spec.version']);
    // The malformed field is named once, by its shape: admission read a value of the wrong type there.
    const replicas = r.body.details.causes.filter((c: Json) => c.field === 'spec.controlPlane.replicas');
    expect(replicas.map((c: Json) => c.message)).toEqual(['must be an integer, not string "three"']);
  });

  it('refuses a wrong type', async () => {
    const r = await call('POST', CLUSTERS, cluster({ controlPlane: { mode: 'kubeadm', replicas: 'three' } }));
    expectStatus(r, 422, 'Invalid', /must be an integer, not string "three"/);
    expect(causeFields(r)).toEqual(['spec.controlPlane.replicas']);
  });

  it('refuses 2 control plane replicas', async () => {
    const r = await call('POST', CLUSTERS, cluster({ controlPlane: { mode: 'kubeadm', replicas: 2 } }));
    expectStatus(r, 422, 'Invalid', /must be 1 or 3, not 2/);
    expect(causeFields(r)).toEqual(['spec.controlPlane.replicas']);
  });

  it('refuses an unknown datacenter', async () => {
    const r = await call('POST', CLUSTERS, cluster({ datacenter: 'atlantis' }));
    expectStatus(r, 422, 'Invalid', /datacenter "atlantis" does not exist/);
    expect(causeFields(r)).toEqual(['spec.datacenter']);
  });

  it('refuses a hosted control plane in a site datacenter', async () => {
    const r = await call('POST', CLUSTERS, cluster({ controlPlane: { mode: 'hosted', replicas: 1 } }));
    expectStatus(r, 422, 'Invalid', /served by site "store-0412", which runs kubeadm control planes only/);
    expect(causeFields(r)).toEqual(['spec.controlPlane.mode']);
  });

  it('lists every problem at once', async () => {
    const r = await call('POST', CLUSTERS, cluster({ version: 'x', controlPlane: { mode: 'kubeadm', replicas: 2 } }));
    expectStatus(r, 422, 'Invalid');
    expect(causeFields(r).sort()).toEqual(['spec.controlPlane.replicas', 'spec.version']);
  });

  it('refuses a wrong kind or apiVersion for the path', async () => {
    const r = await call('POST', CLUSTERS, { ...cluster(), kind: 'Site', apiVersion: 'v1' });
    expectStatus(r, 422, 'Invalid');
    expect(causeFields(r).sort()).toEqual(['apiVersion', 'kind']);
  });

  it('answers 404 for a cluster in a project that does not exist', async () => {
    const r = await call('POST', `${API}/namespaces/ghost/clusters`, { ...cluster(), metadata: { name: 'pos' } });
    expectStatus(r, 404, 'NotFound', /Project "ghost" not found/);
  });

  it('refuses a body that is not JSON', async () => {
    const r = await call('POST', CLUSTERS, 'apiVersion: outpost.dev/v1alpha1\nkind: Cluster\n');
    expectStatus(r, 400, 'BadRequest', /request body is not JSON/);
  });

  it('refuses a namespace in the body that differs from the path', async () => {
    const r = await call('POST', CLUSTERS, { ...cluster(), metadata: { name: 'pos', namespace: 'elsewhere' } });
    expectStatus(r, 400, 'BadRequest', /does not match the project in the path/);
  });
});

describe('conflicts', () => {
  it('answers 409 AlreadyExists on a duplicate create and writes nothing', async () => {
    await seed();
    const before = await revision();
    const original = (await call('GET', `${CLUSTERS}/pos`)).body;
    const r = await call('POST', CLUSTERS, cluster({ version: '1.34.0' }));
    expectStatus(r, 409, 'AlreadyExists', /Cluster "pos" in project "demo" already exists/);
    expect(await revision()).toBe(before);
    expect((await call('GET', `${CLUSTERS}/pos`)).body).toEqual(original);
  });
});

describe('replace (PUT)', () => {
  it('refuses a stale resourceVersion, takes the current one, bumps generation on spec changes only', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;

    const labelled = await call('PUT', `${CLUSTERS}/pos`, { ...v1, metadata: { ...v1.metadata, labels: { env: 'prod' } } });
    expect(labelled.status).toBe(200);
    expect(labelled.body.metadata.labels).toEqual({ env: 'prod' });
    expect(labelled.body.metadata.generation).toBe(1);
    expect(Number(labelled.body.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));
    expect(labelled.body.metadata.uid).toBe(v1.metadata.uid);
    expect(labelled.body.metadata.creationTimestamp).toBe(v1.metadata.creationTimestamp);

    const before = await revision();
    const stale = await call('PUT', `${CLUSTERS}/pos`, { ...v1, spec: { ...v1.spec, version: '1.34.0' } });
    expectStatus(stale, 409, 'Conflict', new RegExp(`your resourceVersion ${v1.metadata.resourceVersion}, now ${labelled.body.metadata.resourceVersion}`));
    expect(await revision()).toBe(before);

    const upgraded = await call('PUT', `${CLUSTERS}/pos`, { ...labelled.body, spec: { ...labelled.body.spec, version: '1.34.0' } });
    expect(upgraded.status).toBe(200);
    expect(upgraded.body.metadata.generation).toBe(2);
    expect(upgraded.body.spec.version).toBe('1.34.0');
    expect((await call('GET', `${CLUSTERS}/pos`)).body.spec.version).toBe('1.34.0');
  });

  it('refuses a name that does not match the path, and invalid specs', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    expectStatus(await call('PUT', `${CLUSTERS}/pos`, { ...v1, metadata: { ...v1.metadata, name: 'other' } }), 400, 'BadRequest', /does not match the name in the path/);
    const bad = await call('PUT', `${CLUSTERS}/pos`, { ...v1, spec: { ...v1.spec, version: 'latest' } });
    expectStatus(bad, 422, 'Invalid');
    expect(causeFields(bad)).toEqual(['spec.version']);
    expectStatus(await call('PUT', `${CLUSTERS}/nope`, { ...v1, metadata: { name: 'nope' } }), 404, 'NotFound');
  });

  it('does not change status', async () => {
    await seed();
    const withStatus = await call('PUT', `${CLUSTERS}/pos/status`, { ...cluster(), status: { phase: 'Running' } });
    expect(withStatus.status).toBe(200);
    const put = await call('PUT', `${CLUSTERS}/pos`, { ...withStatus.body, status: { phase: 'Failed' }, spec: { ...withStatus.body.spec, version: '1.33.1' } });
    expect(put.status).toBe(200);
    expect(put.body.status).toEqual({ phase: 'Running' });
    expect(put.body.spec.version).toBe('1.33.1');
    expect((await call('GET', `${CLUSTERS}/pos`)).body.status).toEqual({ phase: 'Running' });
  });
});

describe('merge patch (PATCH)', () => {
  it('changes the version, removes a label with null and bumps generation', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    expect((await call('PUT', `${CLUSTERS}/pos`, { ...v1, metadata: { ...v1.metadata, labels: { keep: 'yes', drop: 'me' } } })).status).toBe(200);

    const r = await call('PATCH', `${CLUSTERS}/pos`, { metadata: { labels: { drop: null } }, spec: { version: '1.34.0' } });
    expect(r.status).toBe(200);
    expect(r.body.metadata.labels).toEqual({ keep: 'yes' });
    expect(r.body.spec).toEqual({ version: '1.34.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 } });
    expect(r.body.metadata.generation).toBe(2);
    expect((await call('GET', `${CLUSTERS}/pos`)).body).toEqual(r.body);
  });

  it('validates the merged object', async () => {
    await seed();
    const before = await revision();
    const r = await call('PATCH', `${CLUSTERS}/pos`, { spec: { controlPlane: { replicas: 2 } } });
    expectStatus(r, 422, 'Invalid', /must be 1 or 3/);
    expect(causeFields(r)).toEqual(['spec.controlPlane.replicas']);
    expect(await revision()).toBe(before);
  });

  it('refuses a stale resourceVersion in the patch', async () => {
    await seed();
    await call('PATCH', `${CLUSTERS}/pos`, { metadata: { labels: { a: 'b' } } });
    expectStatus(await call('PATCH', `${CLUSTERS}/pos`, { metadata: { resourceVersion: '1' }, spec: { version: '1.34.0' } }), 409, 'Conflict');
  });

  it('answers 415 for an unsupported content type', async () => {
    await seed();
    const before = await revision();
    const r = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: '1.34.0' } }, admin, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ kind: 'Status', code: 415 });
    expect(r.body.message).toMatch(/application\/merge-patch\+json, application\/json-patch\+json and application\/apply-patch\+yaml, not application\/strategic-merge-patch\+json/);
    const text = await call('PATCH', `${CLUSTERS}/pos`, JSON.stringify({ spec: { version: '1.34.0' } }), admin, { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(await revision()).toBe(before);
    // Parameters after the media type are fine.
    const charset = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: '1.34.0' } }, admin, { 'content-type': 'application/merge-patch+json; charset=utf-8' });
    expect(charset.status).toBe(200);
    expect(charset.body.spec.version).toBe('1.34.0');
  });
});

describe('immutable fields', () => {
  /** A second datacenter the cluster could otherwise be placed in: served by a seed, so hosted is valid there. */
  async function seedDatacenter(): Promise<void> {
    expect((await call('POST', `${API}/seeds`, { apiVersion: GV, kind: 'Seed', metadata: { name: 'seed1' }, spec: {} })).status).toBe(201);
    expect((await call('POST', `${API}/datacenters`, { ...datacenter, metadata: { name: 'hamburg-seeds' }, spec: { provider: 'edge', seed: 'seed1' } })).status).toBe(201);
  }

  it('refuses a PUT that moves a cluster to another datacenter, naming the field and writing nothing', async () => {
    await seed();
    await seedDatacenter();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    const before = await revision();
    const r = await call('PUT', `${CLUSTERS}/pos`, { ...v1, spec: { ...v1.spec, datacenter: 'hamburg-seeds', controlPlane: { mode: 'kubeadm', replicas: 1 } } });
    expectStatus(r, 422, 'Invalid', /spec\.datacenter: is immutable \(was "hamburg-stores"\); create a new Cluster to move it/);
    // hamburg-seeds is served by a seed, so kubeadm is wrong there too: both problems in one answer.
    expect(causeFields(r)).toEqual(['spec.controlPlane.mode', 'spec.datacenter']);
    expect(await revision()).toBe(before);
    expect((await call('GET', `${CLUSTERS}/pos`)).body.spec.datacenter).toBe('hamburg-stores');
  });

  it('refuses a PATCH of datacenter and mode with the other admission problems in one answer', async () => {
    await seed();
    await seedDatacenter();
    const before = await revision();
    const r = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: 'latest', datacenter: 'hamburg-seeds', controlPlane: { mode: 'hosted' } } });
    expectStatus(r, 422, 'Invalid');
    expect(causeFields(r)).toEqual(['spec.version', 'spec.datacenter', 'spec.controlPlane.mode']);
    const causes = r.body.details.causes as Array<{ field: string; message: string; reason: string }>;
    expect(causes[1]).toEqual({ field: 'spec.datacenter', message: 'is immutable (was "hamburg-stores"); create a new Cluster to move it', reason: 'FieldValueInvalid' });
    expect(causes[2]).toEqual({ field: 'spec.controlPlane.mode', message: 'is immutable (was "kubeadm"); create a new Cluster with the other mode', reason: 'FieldValueInvalid' });
    expect(await revision()).toBe(before);
  });

  it('lets every other field change, and the immutable ones be sent unchanged', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    const put = await call('PUT', `${CLUSTERS}/pos`, { ...v1, spec: { ...v1.spec, version: '1.34.0', controlPlane: { mode: 'kubeadm', replicas: 3 } } });
    expect(put.status).toBe(200);
    expect(put.body.metadata.generation).toBe(2);
    const patched = await call('PATCH', `${CLUSTERS}/pos`, { spec: { datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm' }, version: '1.34.1' } });
    expect(patched.status).toBe(200);
    expect(patched.body.spec).toEqual({ version: '1.34.1', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 3 } });
  });

  it('lets a Datacenter move to another site: that is how its clusters move', async () => {
    await seed();
    expect((await call('POST', SITES, { ...site, metadata: { name: 'store-0413' } })).status).toBe(201);
    const r = await call('PATCH', `${API}/datacenters/hamburg-stores`, { spec: { site: 'store-0413' } });
    expect(r.status).toBe(200);
    expect(r.body.spec.site).toBe('store-0413');
  });
});

describe('/status subresource', () => {
  it('PUT and PATCH change status but not spec or generation', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    const put = await call('PUT', `${CLUSTERS}/pos/status`, {
      ...v1,
      spec: { ...v1.spec, version: '9.9.9' },
      status: { phase: 'Creating', conditions: [{ type: 'Ready', status: 'False', reason: 'Installing' }] },
    });
    expect(put.status).toBe(200);
    expect(put.body.status).toEqual({ phase: 'Creating', conditions: [{ type: 'Ready', status: 'False', reason: 'Installing' }] });
    expect(put.body.spec).toEqual(v1.spec);
    expect(put.body.metadata.generation).toBe(1);
    expect(Number(put.body.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));

    const patched = await call('PATCH', `${CLUSTERS}/pos/status`, { status: { phase: 'Running', endpoint: 'https://10.0.0.1:6443' }, spec: { version: '9.9.9' } });
    expect(patched.status).toBe(200);
    expect(patched.body.status).toEqual({ phase: 'Running', endpoint: 'https://10.0.0.1:6443', conditions: [{ type: 'Ready', status: 'False', reason: 'Installing' }] });
    expect(patched.body.spec).toEqual(v1.spec);
    expect(patched.body.metadata.generation).toBe(1);

    const got = (await call('GET', `${CLUSTERS}/pos`)).body;
    expect(got.status.phase).toBe('Running');
    expect(got.spec.version).toBe('1.33.0');
  });

  it('refuses a stale resourceVersion and DELETE', async () => {
    await seed();
    const v1 = (await call('GET', `${CLUSTERS}/pos`)).body;
    await call('PATCH', `${CLUSTERS}/pos/status`, { status: { phase: 'Creating' } });
    expectStatus(await call('PUT', `${CLUSTERS}/pos/status`, { ...v1, status: { phase: 'Failed' } }), 409, 'Conflict');
    expectStatus(await call('DELETE', `${CLUSTERS}/pos/status`), 405, 'MethodNotAllowed');
    expect((await call('GET', `${CLUSTERS}/pos`)).body.status).toEqual({ phase: 'Creating' });
  });
});

describe('delete', () => {
  it('deletes, then GET is 404', async () => {
    await seed(false);
    const r = await call('DELETE', `${API}/datacenters/hamburg-stores`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.name).toBe('hamburg-stores');
    expectStatus(await call('GET', `${API}/datacenters/hamburg-stores`), 404, 'NotFound');
    expectStatus(await call('DELETE', `${API}/datacenters/hamburg-stores`), 404, 'NotFound');
    expect((await call('GET', `${API}/datacenters`)).body.items).toEqual([]);
  });

  it("gives a Cluster its site agent's finalizer, which a PUT without it keeps", async () => {
    await seed();
    const created = (await call('GET', `${CLUSTERS}/pos`)).body;
    expect(created.metadata.finalizers).toEqual(['agent.outpost.dev/site.store-0412']);
    const put = await call('PUT', `${CLUSTERS}/pos`, { ...cluster({ version: '1.33.1' }), metadata: { name: 'pos', namespace: 'demo', resourceVersion: created.metadata.resourceVersion } });
    expect(put.status).toBe(200);
    expect(put.body.metadata.finalizers).toEqual(['agent.outpost.dev/site.store-0412']);
  });

  it('only marks an object with finalizers', async () => {
    await seed(false);
    const held = cluster();
    held.metadata.finalizers = ['outpost.dev/teardown'];
    expect((await call('POST', CLUSTERS, held)).status).toBe(201);
    const r = await call('DELETE', `${CLUSTERS}/pos`);
    expect(r.status).toBe(200);
    expect(r.body.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const got = await call('GET', `${CLUSTERS}/pos`);
    expect(got.status).toBe(200);
    expect(got.body.metadata.deletionTimestamp).toBe(r.body.metadata.deletionTimestamp);
    expect(got.body.metadata.finalizers).toEqual(['outpost.dev/teardown', 'agent.outpost.dev/site.store-0412']);

    // Removing one leaves it Terminating; removing the last finishes the delete.
    const one = await call('PATCH', `${CLUSTERS}/pos`, { metadata: { finalizers: ['agent.outpost.dev/site.store-0412'] } });
    expect(one.body.metadata.finalizers).toEqual(['agent.outpost.dev/site.store-0412']);
    expect((await call('GET', `${CLUSTERS}/pos`)).status).toBe(200);
    const cleared = await call('PATCH', `${CLUSTERS}/pos`, { metadata: { finalizers: [] } });
    expect(cleared.status).toBe(200);
    expectStatus(await call('GET', `${CLUSTERS}/pos`), 404, 'NotFound');
  });

  it('refuses a delete with a stale resourceVersion', async () => {
    await seed();
    expectStatus(await call('DELETE', `${CLUSTERS}/pos?resourceVersion=1`), 409, 'Conflict');
    expect((await call('GET', `${CLUSTERS}/pos`)).status).toBe(200);
  });
});

describe('server-side dry run (?dryRun=All)', () => {
  /** Everything a write could leave behind: objects, revision, audit rows, credentials. */
  const snapshot = async () => ({ revision: await revision(), audit: store.auditCount(), clusters: (await call('GET', CLUSTERS)).body.items, sites: (await call('GET', SITES)).body.items });

  it('deletes nothing: kubectl delete --dry-run=server answers the object and the Site stays', async () => {
    await seed(false);
    const before = await snapshot();
    const r = await call('DELETE', `${SITES}/store-0412?dryRun=All`);
    expect([r.status, r.body.kind, r.body.metadata.name]).toEqual([200, 'Site', 'store-0412']);
    expect(await snapshot()).toEqual(before);
  });

  it("honours kubectl's way: dryRun in the DELETE body (DeleteOptions), and its preconditions", async () => {
    await seed(false);
    const before = await snapshot();
    const r = await call('DELETE', `${SITES}/store-0412`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', dryRun: ['All'] });
    expect([r.status, r.body.metadata.name]).toEqual([200, 'store-0412']);
    expect(await snapshot()).toEqual(before);
    expectStatus(await call('DELETE', `${SITES}/store-0412`, { kind: 'DeleteOptions', dryRun: ['Maybe'] }), 400, 'BadRequest', /dryRun=Maybe is not supported/);
    expectStatus(await call('DELETE', `${SITES}/store-0412`, '{not json'), 400, 'BadRequest', /DELETE body is not JSON/);
    expectStatus(await call('DELETE', `${SITES}/store-0412`, { kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } }), 409, 'Conflict');
    expect(await snapshot()).toEqual(before);
  });

  it('answers a create, a replace and a patch as they would be, and writes none of them', async () => {
    await seed(false);
    const before = await snapshot();
    const created = await call('POST', `${CLUSTERS}?dryRun=All`, cluster());
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'pos', namespace: 'demo', generation: 1, resourceVersion: String(before.revision + 1), finalizers: ['agent.outpost.dev/site.store-0412'] });
    expect(await snapshot()).toEqual(before);
    await call('POST', CLUSTERS, cluster());
    const stored = (await call('GET', `${CLUSTERS}/pos`)).body;
    const mid = await snapshot();
    const put = await call('PUT', `${CLUSTERS}/pos?dryRun=All`, { ...stored, spec: { ...stored.spec, version: '1.33.1' } });
    expect([put.status, put.body.spec.version, put.body.metadata.generation]).toEqual([200, '1.33.1', 2]);
    const patched = await call('PATCH', `${CLUSTERS}/pos?dryRun=All`, { spec: { version: '1.33.2' } });
    expect([patched.status, patched.body.spec.version]).toEqual([200, '1.33.2']);
    const marked = await call('DELETE', `${CLUSTERS}/pos?dryRun=All`);
    expect(marked.body.metadata.deletionTimestamp).toBe(rfc3339(clock.now()));
    expect(await snapshot()).toEqual(mid);
    expect((await call('GET', `${CLUSTERS}/pos`)).body).toEqual(stored);
  });

  it('runs the whole validation and admission: an invalid object is refused exactly as a real write is', async () => {
    await seed(false);
    const bad = cluster({ spec: { version: 'one', datacenter: 'nowhere', controlPlane: { mode: 'kubeadm' } } });
    const real = await call('POST', CLUSTERS, bad);
    const dry = await call('POST', `${CLUSTERS}?dryRun=All`, bad);
    expect(dry.status).toBe(422);
    expect(dry.body).toEqual(real.body);
  });

  it('makes no token: no secret in the answer, no credential stored', async () => {
    const r = await call('POST', `${API}/tokens?dryRun=All`, { apiVersion: GV, kind: 'Token', metadata: { name: 'dry001' }, spec: { type: 'api', role: 'admin' } });
    expect(r.status).toBe(201);
    expect(r.body.status?.token).toBeUndefined();
    expect(store.credential('token/dry001')).toBeUndefined();
    expectStatus(await call('GET', `${API}/tokens/dry001`), 404, 'NotFound');
  });

  it('refuses a dryRun it does not know, and one on a read, writing nothing', async () => {
    await seed(false);
    const before = await snapshot();
    expectStatus(await call('DELETE', `${SITES}/store-0412?dryRun=Yes`), 400, 'BadRequest', /dryRun=Yes is not supported: the only value is All/);
    expectStatus(await call('GET', `${SITES}?dryRun=All`), 400, 'BadRequest', /query parameter "dryRun" is not accepted on list; it applies to create, update, patch, delete/);
    expect(await snapshot()).toEqual(before);
  });

  it('tells no watcher: a dry run is not an event', async () => {
    await seed(false);
    const w = await openWatch(`${SITES}?watch=true&resourceVersion=${await revision()}`);
    await call('DELETE', `${SITES}/store-0412?dryRun=All`);
    await call('PATCH', `${SITES}/store-0412`, { metadata: { labels: { real: 'yes' } } });
    const event = await w.next();
    expect([event.type, event.object.metadata.labels]).toEqual(['MODIFIED', { real: 'yes' }]);
    await w.close();
  });
});

describe('discovery', () => {
  it('serves the OpenAPI document', async () => {
    const r = await call('GET', '/openapi.json', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body.info.version).toBe('0.0.0-test');
    const clusterPath = r.body.paths[`${API}/namespaces/{namespace}/clusters/{name}`];
    expect(Object.keys(clusterPath).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(r.body.paths[`${API}/sites/{name}/status`]).toBeDefined();
    expect(r.body.components.schemas.Cluster.properties).toHaveProperty('spec');
    expect(r.body.components.schemas.ClusterSpec.properties).toHaveProperty('version');
    // The kubeconfig subresource, with the messages it carries (proto AdminKubeconfigRequest / AdminKubeconfig).
    const kubeconfig = r.body.paths[`${API}/namespaces/{namespace}/clusters/{name}/kubeconfig`];
    expect(Object.keys(kubeconfig)).toEqual(['post']);
    expect(kubeconfig.post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AdminKubeconfigRequest' });
    expect(kubeconfig.post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AdminKubeconfig' });
    expect(Object.keys(r.body.components.schemas.AdminKubeconfigRequest.properties)).toEqual(['expirationSeconds']);
    expect(Object.keys(r.body.components.schemas.AdminKubeconfig.properties).sort()).toEqual(['apiVersion', 'expirationTimestamp', 'kind', 'kubeconfig', 'metadata']);
  });

  it('lists the resources of the group version', async () => {
    const r = await call('GET', API);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'APIResourceList', groupVersion: GV });
    const clusters = r.body.resources.find((x: Json) => x.name === 'clusters');
    expect(clusters).toMatchObject({ kind: 'Cluster', namespaced: true, singularName: 'cluster' });
    expect(clusters.verbs).toContain('watch');
    expect(r.body.resources.find((x: Json) => x.name === 'sites')).toMatchObject({ kind: 'Site', namespaced: false });
    expect(r.body.resources.map((x: Json) => x.name)).toContain('clusters/status');
    const groups = await call('GET', '/apis', undefined, null);
    expect(groups.body.groups[0].preferredVersion.groupVersion).toBe(GV);
  });

  it('answers aggregated discovery when asked, every resource in one document, and the legacy one otherwise', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const r = await call('GET', '/apis', undefined, null, { accept });
    expect(r.res.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(r.body.kind).toBe('APIGroupDiscoveryList');
    const [group] = r.body.items;
    expect(group.metadata.name).toBe('outpost.dev');
    const clusters = group.versions[0].resources.find((x: Json) => x.resource === 'clusters');
    expect(clusters).toMatchObject({ scope: 'Namespaced', singularResource: 'cluster', responseKind: { group: 'outpost.dev', version: 'v1alpha1', kind: 'Cluster' }, categories: ['outpost'] });
    expect(clusters.subresources).toEqual([{ subresource: 'status', responseKind: { group: 'outpost.dev', version: 'v1alpha1', kind: 'Cluster' }, verbs: ['get', 'update', 'patch'] }]);
    expect(group.versions[0].resources.find((x: Json) => x.resource === 'sites').scope).toBe('Cluster');
    const legacy = await call('GET', '/apis', undefined, null, { accept: 'application/json' });
    expect([legacy.body.kind, legacy.res.headers.get('vary')]).toEqual(['APIGroupList', 'Accept']);
  });

  it('serves health, version and the CA', async () => {
    expect((await call('GET', '/healthz', undefined, null)).body).toBe('ok');
    expect((await call('GET', '/version', undefined, null)).body).toEqual({ version: '0.0.0-test', revision: store.revision(), protocol: `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`, major: '0', minor: '0', gitVersion: 'v0.0.0-test', platform: `${process.platform}/${process.arch}` });
    const ca = await call('GET', '/agent/v1/ca.crt', undefined, null);
    expect(ca.res.headers.get('content-type')).toBe('application/x-pem-file');
    expect(ca.body).toContain('BEGIN CERTIFICATE');
  });

  it('answers /healthz from the components, as kube-apiserver does: 503 naming what failed, ?verbose lists each', async () => {
    const parts = [{ name: 'store', ok: true, message: 'revision 7' }, { name: 'https', ok: true }];
    const withHealth = createApi({ store, presence, clock, caCertPem: 'x', version: '0', health: () => parts });
    expect(await (await withHealth.request('/healthz')).text()).toBe('ok');
    expect(await (await withHealth.request('/healthz?verbose')).text()).toBe('[+]store ok: revision 7\n[+]https ok\nhealthz check passed\n');
    parts[1] = { name: 'https', ok: false, message: 'not listening' } as never;
    const down = await withHealth.request('/healthz');
    expect([down.status, await down.text()]).toEqual([503, 'unhealthy: https (not listening)']);
    const verbose = await withHealth.request('/healthz?verbose');
    expect([verbose.status, await verbose.text()]).toEqual([503, '[+]store ok: revision 7\n[-]https failed: not listening\nhealthz check failed\n']);
  });
});

describe('bootstrap tokens and join', () => {
  const bootstrap = (spec: Json = {}): Json => ({ apiVersion: GV, kind: 'Token', metadata: {}, spec: { type: 'bootstrap', site: 'store-0412', ttl: '1h', ...spec } });
  const join = (token: string): Promise<Reply> => call('POST', '/agent/v1/join', { token, version: '0.0.0-test' }, null);

  it('issues a single-use token that an agent swaps for its credential', async () => {
    await seed(false);
    const created = await call('POST', `${API}/tokens`, bootstrap());
    expect(created.status).toBe(201);
    const token: string = created.body.status.token;
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const id = token.split('.')[0]!;
    expect(created.body.metadata.name).toBe(id);
    const expires = Date.parse(created.body.spec.expires);
    expect(expires).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60 * 60_000);

    const got = await call('GET', `${API}/tokens/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.status?.token).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(token.split('.')[1]!);

    const joined = await join(token);
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ agentId: `site-store-0412-${id}`, view: 'site/store-0412', role: 'site', target: 'store-0412' });
    expect(joined.body.credential).toMatch(new RegExp(`^site-store-0412-${id}\\.[A-Za-z0-9_-]{43}$`));

    expect((await call('GET', `${API}/tokens/${id}`)).body.status).toMatchObject({ used: true, agent: joined.body.agentId });
    expect((await call('GET', `${SITES}/store-0412`)).body.status).toEqual({ agent: joined.body.agentId });
    expect((await call('GET', `${API}/agents/${joined.body.agentId}`)).body.spec).toEqual({ role: 'site', site: 'store-0412' });

    const again = await join(token);
    expectStatus(again, 401, 'Unauthorized', /already used/);
    expect(again.body.details).toEqual({ code: 'TOKEN_USED' });
  });

  it('refuses malformed, unknown and expired tokens with a code', async () => {
    await seed(false);
    const malformed = await join('not-a-token');
    expectStatus(malformed, 401, 'Unauthorized', /not of the form/);
    expect(malformed.body.details.code).toBe('TOKEN_MALFORMED');

    const unknown = await join(`abcdef.${'0'.repeat(16)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.details.code).toBe('TOKEN_UNKNOWN');

    // An expired token, made as the API makes them but with an expiry in the past.
    const secret = randomToken(16);
    store.create({ apiVersion: GV, kind: 'Token', metadata: { name: 'expire' }, spec: { type: 'bootstrap', site: 'store-0412', expires: '2020-01-01T00:00:00Z' } } as Token, { actor: 'test' });
    store.putCredential('token/expire', 'bootstrap', hashSecret(secret));
    const expired = await join(`expire.${secret}`);
    expectStatus(expired, 401, 'Unauthorized', /expired at 2020-01-01T00:00:00Z/);
    expect(expired.body.details.code).toBe('TOKEN_EXPIRED');

    expectStatus(await call('POST', '/agent/v1/join', { nope: 1 }, null), 400, 'BadRequest', /join needs/);
  });

  it('expires a bootstrap token at the end of its ttl, by the hub clock', async () => {
    await seed(false);
    const early = await call('POST', `${API}/tokens`, bootstrap({ ttl: '1h' }));
    const late = await call('POST', `${API}/tokens`, bootstrap({ ttl: '1h' }));
    expect(Date.parse(late.body.spec.expires)).toBe(Math.floor(clock.now().getTime() / 1000) * 1000 + 3_600_000);
    clock.advance(Date.parse(late.body.spec.expires) - clock.now().getTime() - 1000);
    expect((await join(early.body.status.token)).status).toBe(200);
    clock.advance(1000);
    const r = await join(late.body.status.token);
    expectStatus(r, 401, 'Unauthorized', new RegExp(`expired at ${late.body.spec.expires}`));
    expect(r.body.details.code).toBe('TOKEN_EXPIRED');
  });

  it('answers 429 with Retry-After to an address past its failed joins, without looking at its token', async () => {
    await seed(false);
    const from = (address: string, token: string) => app.request('/agent/v1/join', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) }, { incoming: { socket: { remoteAddress: address }, headers: {} } });
    const good = (await call('POST', `${API}/tokens`, bootstrap())).body.status.token as string;
    for (let i = 0; i < 10; i++) expect((await from('192.0.2.7', `abcdef.${String(i).padStart(16, '0')}`)).status).toBe(401);
    const throttled = await from('192.0.2.7', good);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('6');
    expect(await throttled.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'too many failed joins from 192.0.2.7; try again in 6 s, with a token from `outpost token create` (copy it whole)', details: { retryAfterSeconds: 6 } });
    // The good token was not spent, and another address joins with it.
    expect((await from('192.0.2.8', good)).status).toBe(200);
  });

  it('refuses a bootstrap token for a site that does not exist, or a bad ttl', async () => {
    await seed(false);
    const before = await revision();
    const noSite = await call('POST', `${API}/tokens`, bootstrap({ site: 'store-9999' }));
    expectStatus(noSite, 422, 'Invalid', /site "store-9999" does not exist/);
    expect(causeFields(noSite)).toEqual(['spec.site']);
    const badTtl = await call('POST', `${API}/tokens`, bootstrap({ ttl: 'forever' }));
    expectStatus(badTtl, 422, 'Invalid');
    expect(causeFields(badTtl)).toEqual(['spec.ttl']);
    expect(await revision()).toBe(before);
  });
});

describe('watch', () => {
  it('streams ADDED for existing objects, then live changes', async () => {
    await seed();
    const watch = await openWatch(`${CLUSTERS}?watch=true&resourceVersion=0`);
    const nextEvent = () => watch.next();
    try {
      const first = await nextEvent();
      expect(first.type).toBe('ADDED');
      expect(first.object).toMatchObject({ kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' } });

      const patched = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: '1.34.0' } });
      const second = await nextEvent();
      expect(second.type).toBe('MODIFIED');
      expect(second.object.spec.version).toBe('1.34.0');
      expect(second.object.metadata.resourceVersion).toBe(patched.body.metadata.resourceVersion);

      // Terminating first: its site's agent holds it with a finalizer.
      await call('DELETE', `${CLUSTERS}/pos`);
      const third = await nextEvent();
      expect(third.type).toBe('MODIFIED');
      expect(third.object.metadata.deletionTimestamp).toBe(rfc3339(clock.now()));
      await call('PATCH', `${CLUSTERS}/pos`, { metadata: { finalizers: [] } });
      const fourth = await nextEvent();
      expect(fourth.type).toBe('DELETED');
      expect(fourth.object.metadata.name).toBe('pos');
    } finally {
      await watch.close();
    }
  });

  it('narrows to a labelSelector: an object that starts matching is ADDED, one that stops is DELETED', async () => {
    await seed(false);
    await call('PATCH', `${SITES}/store-0412`, { metadata: { labels: { tier: 'gold' } } });
    await call('POST', SITES, { ...site, metadata: { name: 'store-0413', labels: { tier: 'silver' } } });
    const watch = await openWatch(`${SITES}?watch=true&labelSelector=tier=gold&resourceVersion=${await revision()}`);
    try {
      await call('PATCH', `${SITES}/store-0413`, { metadata: { labels: { tier: 'gold' } } });
      expect(await watch.next()).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'store-0413' } } });
      await call('PATCH', `${SITES}/store-0412`, { spec: { location: 'moved' } });
      expect(await watch.next()).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'store-0412' } } });
      await call('PATCH', `${SITES}/store-0412`, { metadata: { labels: { tier: 'bronze' } } });
      expect(await watch.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'store-0412' } } });
      // Changes to objects the watcher does not hold are not its business.
      await call('PATCH', `${SITES}/store-0412`, { spec: { location: 'moved again' } });
      await call('DELETE', `${SITES}/store-0413`);
      expect(await watch.next()).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'store-0413' } } });
    } finally {
      await watch.close();
    }
  });

  it('narrows lists and watches to a fieldSelector on metadata.name, as kubectl wait sends it', async () => {
    await seed(false);
    await call('POST', SITES, { ...site, metadata: { name: 'store-0413' } });
    const listed = await call('GET', `${SITES}?fieldSelector=metadata.name%3Dstore-0413`);
    expect(listed.body.items.map((i: Json) => i.metadata.name)).toEqual(['store-0413']);
    expect((await call('GET', `${SITES}?fieldSelector=metadata.name!%3Dstore-0413`)).body.items.map((i: Json) => i.metadata.name)).toEqual(['store-0412']);
    const watch = await openWatch(`${SITES}?watch=true&fieldSelector=metadata.name%3Dstore-0413&resourceVersion=${await revision()}`);
    try {
      await call('PATCH', `${SITES}/store-0412`, { spec: { location: 'not watched' } });
      await call('PATCH', `${SITES}/store-0413`, { spec: { location: 'watched' } });
      expect(await watch.next()).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'store-0413' }, spec: { location: 'watched' } } });
    } finally {
      await watch.close();
    }
    expectStatus(await call('GET', `${SITES}?fieldSelector=spec.location%3Dx`), 400, 'BadRequest', /fieldSelector field "spec.location" is not supported/);
  });

  it('sends BOOKMARKs with the hub revision when allowed, and ends at timeoutSeconds', async () => {
    app = createApi({ store, presence, clock, caCertPem: 'x', version: '0', watchBookmarkEveryMs: 30 });
    await seed(false);
    const watch = await openWatch(`${SITES}?watch=true&allowWatchBookmarks=true`);
    try {
      const bookmark = await watch.next();
      expect(bookmark).toEqual({ type: 'BOOKMARK', object: { apiVersion: GV, kind: 'Site', metadata: { resourceVersion: String(await revision()) } } });
    } finally {
      await watch.close();
    }
    const started = Date.now();
    const ended = await app.request(`${SITES}?watch=true&timeoutSeconds=1`, { headers: { authorization: `Bearer ${admin}` } });
    expect(await ended.text()).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expectStatus(await call('GET', `${SITES}?watch=true&timeoutSeconds=-1`), 400, 'BadRequest', /timeoutSeconds=-1 is not a whole number/);
    expectStatus(await call('GET', `${SITES}?watch=true&allowWatchBookmarks=maybe`), 400, 'BadRequest', /allowWatchBookmarks=maybe is not true or false/);
  });

  it('refuses a watch for another project and a bad resourceVersion', async () => {
    await seed();
    const editor = apiToken('edit01', { type: 'api', role: 'editor', project: 'demo' });
    expectStatus(await call('GET', `${API}/namespaces/other/clusters?watch=true`, undefined, editor), 403, 'Forbidden');
    expectStatus(await call('GET', `${CLUSTERS}?watch=true&resourceVersion=abc`), 400, 'BadRequest', /not a revision number/);
  });
});

describe('agent presence', () => {
  /** An agent joined the way outpost-agent joins: a bootstrap token swapped for its credential. */
  async function joinedAgent(): Promise<string> {
    await seed(false);
    const token = await call('POST', `${API}/tokens`, { apiVersion: GV, kind: 'Token', metadata: {}, spec: { type: 'bootstrap', site: 'store-0412' } });
    const joined = await call('POST', '/agent/v1/join', { token: token.body.status.token, version: '0.9.0' }, null);
    expect(joined.status).toBe(200);
    return joined.body.agentId;
  }

  it('shows presence in Agent status on get and list, and in a watch, without moving the revision, the change log or the audit log', async () => {
    const agentId = await joinedAgent();
    const AGENT = `${API}/agents/${agentId}`;
    const joinedAgentBody = (await call('GET', AGENT)).body;
    expect(joinedAgentBody.status).toEqual({ connected: false, ackedRevision: 0, version: '0.9.0' });
    const rv = joinedAgentBody.metadata.resourceVersion;
    const before = { revision: store.revision(), audit: store.auditCount() };
    const watch = await openWatch(`${API}/agents?watch=true&resourceVersion=${before.revision}`);
    try {
      presence.connected(agentId, { version: '1.0.0', address: '127.0.0.9', sshPublicKey: '' });
      presence.flush();
      const connected = await watch.next();
      expect(connected.type).toBe('MODIFIED');
      expect(connected.object.metadata).toMatchObject({ name: agentId, resourceVersion: rv });
      const since = clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      expect(connected.object.status).toEqual({ connected: true, ackedRevision: 0, version: '1.0.0', address: '127.0.0.9', connectedSince: since, lastSeen: since });

      clock.advance(5000);
      presence.acked(agentId, before.revision);
      presence.flush();
      const acked = await watch.next();
      expect(acked.object.status).toMatchObject({ connected: true, ackedRevision: before.revision });
      expect(acked.object.metadata.resourceVersion).toBe(rv);

      const got = await call('GET', AGENT);
      expect(got.body.status).toMatchObject({ connected: true, ackedRevision: before.revision, address: '127.0.0.9' });
      expect(got.body.metadata.resourceVersion).toBe(rv);
      const listed = await call('GET', `${API}/agents`);
      expect(listed.body.items.map((a: Json) => [a.metadata.name, a.status.connected, a.status.ackedRevision])).toEqual([[agentId, true, before.revision]]);
      expect(listed.body.metadata.resourceVersion).toBe(String(before.revision));

      presence.disconnected(agentId);
      presence.flush();
      const gone = await watch.next();
      expect(gone.object.status).toMatchObject({ connected: false, ackedRevision: before.revision });

      expect(store.revision()).toBe(before.revision);
      expect(store.changesSince(before.revision)).toEqual([]);
      expect(store.syncView('site/store-0412', before.revision)).toEqual({ snapshot: false, revision: before.revision, upserts: [], removals: [] });
      expect(store.auditCount()).toBe(before.audit);

      // A revisioned change to the Agent still comes as its own MODIFIED, with presence merged.
      const labelled = await call('PATCH', AGENT, { metadata: { labels: { rack: '7' } } });
      const modified = await watch.next();
      expect(modified.object.metadata.resourceVersion).toBe(labelled.body.metadata.resourceVersion);
      expect(modified.object.metadata.resourceVersion).toBe(String(before.revision + 1));
      expect(modified.object.status).toMatchObject({ connected: false, ackedRevision: before.revision });
    } finally {
      await watch.close();
    }
  });

  it('keeps presence out of an Agent status written through the API', async () => {
    const agentId = await joinedAgent();
    const AGENT = `${API}/agents/${agentId}`;
    const condition = { type: 'Ready', status: 'True', reason: 'Test', message: 'fine' };
    const patched = await call('PATCH', `${AGENT}/status`, { status: { connected: true, ackedRevision: 999, conditions: [condition] } });
    expect(patched.status).toBe(200);
    expect(patched.body.status).toMatchObject({ connected: false, ackedRevision: 0, conditions: [condition] });
    expect(store.get('Agent', '', agentId)?.status).toEqual({ conditions: [condition] });
  });

  it('does not send presence events to watches of other kinds', async () => {
    const agentId = await joinedAgent();
    const watch = await openWatch(`${SITES}?watch=true`);
    try {
      presence.connected(agentId, { version: '1.0.0', address: '127.0.0.9', sshPublicKey: '' });
      presence.flush();
      await call('PATCH', `${SITES}/store-0412`, { metadata: { labels: { l: '1' } } });
      const first = await watch.next();
      expect(first).toMatchObject({ type: 'MODIFIED', object: { kind: 'Site', metadata: { labels: { l: '1' } } } });
    } finally {
      await watch.close();
    }
  });
});

describe("kubectl's requests", () => {
  const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' };

  it('answers a list and a get with a Table of the printer columns, rows carrying metadata unless told otherwise', async () => {
    await seed();
    const list = await call('GET', CLUSTERS, undefined, admin, TABLE);
    expect([list.status, list.body.kind, list.body.apiVersion, list.body.metadata.resourceVersion]).toEqual([200, 'Table', 'meta.k8s.io/v1', String(store.revision())]);
    expect(list.body.columnDefinitions.map((c: Json) => c.name)).toEqual(['Name', 'Version', 'Datacenter', 'Mode', 'Phase', 'Conditions', 'Replicas', 'Endpoint', 'Operation', 'Age']);
    expect(list.body.rows[0].cells.slice(0, 5)).toEqual(['pos', '1.33.0', 'hamburg-stores', 'kubeadm', '<none>']);
    expect(list.body.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'pos', namespace: 'demo' } });
    expect(list.body.rows[0].object.spec).toBeUndefined();
    const one = await call('GET', `${CLUSTERS}/pos?includeObject=Object`, undefined, admin, TABLE);
    expect(one.body.rows).toHaveLength(1);
    expect(one.body.rows[0].object).toMatchObject({ kind: 'Cluster', spec: { version: '1.33.0' } });
    expect((await call('GET', `${CLUSTERS}/pos?includeObject=None`, undefined, admin, TABLE)).body.rows[0].object).toBeNull();
    expectStatus(await call('GET', `${CLUSTERS}?includeObject=Everything`, undefined, admin, TABLE), 400, 'BadRequest', /includeObject=Everything is not Object, Metadata or None/);
    // Plain JSON still answers with the objects, and an Accept the hub cannot serve is told what it can.
    expect((await call('GET', CLUSTERS, undefined, admin, { accept: 'application/json' })).body.kind).toBe('ClusterList');
    expectStatus(await call('GET', CLUSTERS, undefined, admin, { accept: 'application/vnd.kubernetes.protobuf' }), 406, 'NotAcceptable', /serves application\/json/);
    // A Table needs the same token as the objects themselves.
    expect((await call('GET', `${API}/namespaces/other/clusters`, undefined, null, TABLE)).status).toBe(401);
  });

  it('sends Tables in a watch, the column definitions in the first event only', async () => {
    await seed();
    const w = await openWatch(`${CLUSTERS}?watch=true&resourceVersion=0`, TABLE);
    try {
      const first = await w.next();
      expect([first.type, first.object.kind, first.object.rows[0].cells[0]]).toEqual(['ADDED', 'Table', 'pos']);
      expect(first.object.columnDefinitions).toHaveLength(10);
      await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: '1.33.1' } });
      const second = await w.next();
      expect([second.type, second.object.rows[0].cells[1], second.object.columnDefinitions]).toEqual(['MODIFIED', '1.33.1', undefined]);
    } finally {
      await w.close();
    }
  });

  it('names the refused object in an Invalid Status, as kubectl reads it', async () => {
    await seed(false);
    const r = await call('POST', `${CLUSTERS}?fieldValidation=Strict`, cluster({ replica: 3 }));
    expectStatus(r, 422, 'Invalid', /spec.replica: unknown field/);
    // kubectl says 'The Cluster "pos" is invalid: ...' from these.
    expect(r.body.details).toMatchObject({ group: 'outpost.dev', kind: 'Cluster', name: 'pos' });
    expect((await call('POST', `${CLUSTERS}?fieldValidation=Strict`, cluster())).status).toBe(201);
  });

  it('serves /openapi/v3 pointing at the group version by hash, and /openapi/v2 in JSON or protobuf', async () => {
    const index = await call('GET', '/openapi/v3', undefined, null);
    const url: string = index.body.paths['apis/outpost.dev/v1alpha1'].serverRelativeURL;
    const gv = await call('GET', url, undefined, null);
    expect([gv.status, gv.body.openapi, gv.res.headers.get('cache-control')]).toEqual([200, '3.0.0', 'public, immutable']);
    expect((await call('GET', '/openapi/v3/apis/outpost.dev/v1alpha1?hash=stale', undefined, null)).res.headers.get('cache-control')).toBeNull();
    expect((await call('GET', '/openapi/v2', undefined, null, { accept: 'application/json' })).body.swagger).toBe('2.0');
    const pb = await app.request('/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect([pb.status, pb.headers.get('content-type')]).toEqual([200, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf']);
    // A gnostic Document: field 1 (swagger, length-delimited) first, holding "2.0".
    expect([...new Uint8Array(await pb.arrayBuffer()).slice(0, 5)]).toEqual([0x0a, 3, ...Buffer.from('2.0')]);
    expectStatus(await call('GET', '/openapi/v2', undefined, null, { accept: 'application/yaml' }), 406, 'NotAcceptable', /served as application\/json or application\/com.github.proto-openapi.spec.v2.v1.0\+protobuf, not application\/yaml/);
  });
});
