import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialMacKey, signStatusExport, STATUS_EXPORT_KIND } from '@outpost/proto';
import { BundleWriter } from '../bundles/bundle-writer.js';
import { ClusterPki } from '../pki/cluster-pki.js';
import { API, ApiFixture, GV } from './api.fixture.js';

describe('bundle routes', () => {
  let f: ApiFixture;
  const post = (path: string, body: unknown, token = f.admin) =>
    f.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeEach(() => {
    f = new ApiFixture();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    f.rebuild({ bundles: { writer: new BundleWriter({ store: f.store, blobDir: join(f.dir, 'blobs'), key, caCertPem: 'x', caKeyPem: ca, version: '0', pki: new ClusterPki(f.store, randomBytes(32)) }), publicKeyPem: key.publicKeyPem } });
    f.store.create({ apiVersion: GV, kind: 'Site', metadata: { name: 'ship' }, spec: {} } as never, { actor: 'test' });
  });
  afterEach(() => f.close());

  it('are for admins only', async () => {
    const viewer = f.apiToken('viewer1', { type: 'api', role: 'viewer' });
    const r = await post(`${API}/sites/ship/bundle`, {}, viewer);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { message: string }).message).toMatch(/only admin tokens may/);
    expect((await post(`${API}/statusbundles`, {}, viewer)).status).toBe(403);
  });

  it('say what to do for a site without an agent, an unknown site, or a revision from elsewhere', async () => {
    const none = await post(`${API}/sites/ship/bundle`, {});
    expect(none.status).toBe(409);
    expect(((await none.json()) as { message: string }).message).toMatch(/has no agent yet: make its first bundle with --enroll/);
    expect((await post(`${API}/sites/nowhere/bundle`, {})).status).toBe(404);
    const future = await post(`${API}/sites/ship/bundle`, { since: 10_000 });
    expect(((await future.json()) as { message: string }).message).toMatch(/past the hub's revision/);
    expect((await post(`${API}/sites/ship/bundle`, { enroll: true, since: 1 })).status).toBe(400);
    expect((await post(`${API}/sites/ship/bundle`, { enroll: true, hub: 'http://plain' })).status).toBe(400);
  });

  it('refuse a status bundle of an unknown agent, or one not signed with its credential', async () => {
    const body = { kind: STATUS_EXPORT_KIND as typeof STATUS_EXPORT_KIND, format: 1, agentId: 'site-ship-x', view: 'site/ship', ackedRevision: 0, exported: '2026-01-01T00:00:00Z', statuses: [], lastSeq: 0 };
    const unknown = await post(`${API}/statusbundles`, signStatusExport(body, credentialMacKey('s')));
    expect(unknown.status).toBe(403);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/does not know/);
    expect((await post(`${API}/statusbundles`, { kind: 'nope' })).status).toBe(400);
  });
});
