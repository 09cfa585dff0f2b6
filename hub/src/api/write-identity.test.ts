// The path is authoritative on every write: a PUT, a merge PATCH or a /status write whose body names
// another object (or another project) is refused, for every kind, and writes nothing anywhere. A patch
// always carries the optimistic concurrency check of the object it was merged onto.
import { KINDS, type KindInfo, type ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { API, ApiFixture, GV } from './api.fixture.js';

let f: ApiFixture;
let store: ApiFixture['store'];

async function call(method: string, path: string, body: unknown, token = f.admin): Promise<{ status: number; body: { reason?: string; message?: string } }> {
  const res = await f.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { reason?: string; message?: string } };
}

const pathOf = (k: KindInfo, name: string, ns?: string): string => `${API}${ns ? `/namespaces/${ns}` : ''}/${k.plural}/${name}`;
/** An object straight into the store: these tests are about where a write lands, not what it says. */
function put(k: KindInfo, name: string, ns?: string): ResourceObject {
  return store.create({ apiVersion: GV, kind: k.kind, metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { mark: name } }, spec: {} } as ResourceObject, { actor: 'test' });
}

beforeEach(() => {
  f = new ApiFixture();
  store = f.store;
  for (const p of ['demo', 'other']) store.create({ apiVersion: GV, kind: 'Project', metadata: { name: p }, spec: {} } as ResourceObject, { actor: 'test' });
});

afterEach(() => f.close());

describe('the path names the object a write changes', () => {
  it("refuses an owner's PATCH of its Project that names another Project (the issue's bypass), and changes neither", async () => {
    const owner = f.apiToken('owner1', { type: 'api', role: 'owner', project: 'demo' });
    const before = store.list('Project');
    const r = await call('PATCH', `${API}/projects/demo`, { metadata: { name: 'other', labels: { taken: 'yes' } } }, owner);
    expect(r.status).toBe(400);
    expect(r.body.reason).toBe('BadRequest');
    expect(r.body.message).toMatch(/metadata.name "other" does not match the name in the path "demo"/);
    expect(store.list('Project')).toEqual(before);
  });

  for (const k of KINDS) {
    const ns = k.namespaced ? 'demo' : undefined;
    const a = k.kind === 'Token' ? 'aaaaaa' : 'a';
    const b = k.kind === 'Token' ? 'bbbbbb' : 'b';
    it(`${k.kind}: PATCH, PUT, PUT /status and PATCH /status naming another object are 400 and write nothing`, async () => {
      // The Projects demo and other are there already.
      if (k.kind !== 'Project') for (const n of [a, b]) put(k, n, ns);
      const [x, y] = k.kind === 'Project' ? ['demo', 'other'] : [a, b];
      const revision = store.revision();
      const target = pathOf(k, x, ns);
      const current = store.mustGet(k.kind, ns ?? '', x);
      const renamed = { ...current, metadata: { ...current.metadata, name: y, labels: { taken: 'yes' } } };
      for (const [method, path, body] of [
        ['PATCH', target, { metadata: { name: y, labels: { taken: 'yes' } } }],
        // An empty resourceVersion once skipped the conflict check too.
        ['PATCH', target, { metadata: { name: y, resourceVersion: '' } }],
        ['PUT', target, renamed],
        ['PUT', `${target}/status`, { ...renamed, status: { taken: 'yes' } }],
        ['PATCH', `${target}/status`, { metadata: { name: y }, status: { taken: 'yes' } }],
      ] as const) {
        const r = await call(method, path, body);
        expect({ method, path, status: r.status, reason: r.body.reason }).toEqual({ method, path, status: 400, reason: 'BadRequest' });
        expect(r.body.message).toMatch(/does not match the name in the path/);
      }
      expect(store.revision()).toBe(revision);
      expect(store.mustGet(k.kind, ns ?? '', y).metadata.labels?.taken).toBeUndefined();
    });

    if (k.namespaced) {
      it(`${k.kind}: a PATCH, PUT or /status write naming another project is 400 and writes nothing`, async () => {
        put(k, 'a', 'demo');
        put(k, 'a', 'other');
        const revision = store.revision();
        const target = pathOf(k, 'a', 'demo');
        const current = store.mustGet(k.kind, 'demo', 'a');
        const moved = { ...current, metadata: { ...current.metadata, namespace: 'other', labels: { taken: 'yes' } } };
        for (const [method, path, body] of [
          ['PATCH', target, { metadata: { namespace: 'other', labels: { taken: 'yes' } } }],
          ['PUT', target, moved],
          ['PUT', `${target}/status`, { ...moved, status: { taken: 'yes' } }],
          ['PATCH', `${target}/status`, { metadata: { namespace: 'other' }, status: { taken: 'yes' } }],
        ] as const) {
          const r = await call(method, path, body);
          expect({ method, path, status: r.status, reason: r.body.reason }).toEqual({ method, path, status: 400, reason: 'BadRequest' });
          expect(r.body.message).toMatch(/does not match the project in the path "demo"/);
        }
        expect(store.revision()).toBe(revision);
        expect(store.mustGet(k.kind, 'other', 'a').metadata.labels?.taken).toBeUndefined();
      });
    }
  }

  it("checks a patch against the version it was merged onto when the body gives none or an empty one", async () => {
    const site = put(KINDS.find((k) => k.kind === 'Site')!, 'store-0412');
    const replace = vi.spyOn(store, 'replace');
    for (const resourceVersion of [undefined, '', null]) {
      const current = store.mustGet('Site', '', 'store-0412');
      const r = await call('PATCH', `${API}/sites/store-0412`, { metadata: { labels: { n: String(resourceVersion) }, ...(resourceVersion !== undefined ? { resourceVersion } : {}) }, spec: { location: 'x' } });
      expect(r.status).toBe(200);
      expect(replace.mock.lastCall?.[2]?.expectResourceVersion).toBe(current.metadata.resourceVersion);
    }
    expect(site.metadata.resourceVersion).toBeTruthy();
  });
});
