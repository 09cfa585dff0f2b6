import { randomBytes, X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lookupType } from '@outpost/proto';
import YAML from 'yaml';
import { ClusterPki } from '../pki/cluster-pki.js';
import { API, ApiFixture, GV } from './api.fixture.js';

const cluster = (name: string) => ({ apiVersion: GV, kind: 'Cluster', metadata: { name, namespace: 'p' }, spec: { version: '1.33.0', datacenter: 'dc1', controlPlane: { mode: 'kubeadm', replicas: 1 } } });

describe('cluster PKI through the admin API (in process)', () => {
  let f: ApiFixture;
  let pki: ClusterPki;
  let unhook: () => void;
  const req = (method: string, path: string, token: string, body?: unknown, type = 'application/json') =>
    f.app.request(`${API}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': type }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeEach(async () => {
    f = new ApiFixture();
    pki = new ClusterPki(f.store, randomBytes(32), { clock: f.clock });
    unhook = pki.start();
    f.rebuild({ clusterPki: pki });
    for (const o of [{ apiVersion: GV, kind: 'Project', metadata: { name: 'p' }, spec: {} }, { apiVersion: GV, kind: 'Site', metadata: { name: 's1' }, spec: { location: 'x' } }, { apiVersion: GV, kind: 'Datacenter', metadata: { name: 'dc1' }, spec: { provider: 'edge', site: 's1' } }]) {
      f.store.create(o as never, { actor: 'test' });
    }
  });
  afterEach(() => {
    unhook();
    f.close();
  });

  it('makes the PKI in the create, by POST and by server-side apply; a dry run and a refused create leave none', async () => {
    expect((await req('POST', '/namespaces/p/clusters', f.admin, cluster('c1'))).status).toBe(201);
    expect(f.store.clusterPki.get('p', 'c1')?.uid).toBe(f.store.get('Cluster', 'p', 'c1')?.metadata.uid);
    const applied = await f.app.request(`${API}/namespaces/p/clusters/c2?fieldManager=t`, { method: 'PATCH', headers: { authorization: `Bearer ${f.admin}`, 'content-type': 'application/apply-patch+yaml' }, body: JSON.stringify(cluster('c2')) });
    expect(applied.status).toBe(201);
    expect(f.store.clusterPki.get('p', 'c2')).toBeDefined();
    expect((await req('POST', '/namespaces/p/clusters?dryRun=All', f.admin, cluster('c3'))).status).toBe(201);
    expect(f.store.get('Cluster', 'p', 'c3')).toBeUndefined();
    expect(f.store.clusterPki.get('p', 'c3')).toBeUndefined();
    const viewer = f.apiToken('v1', { type: 'api', role: 'viewer', project: 'p' });
    expect((await req('POST', '/namespaces/p/clusters', viewer, cluster('c4'))).status).toBe(403);
    expect(f.store.clusterPki.get('p', 'c4')).toBeUndefined();
  });

  it('refuses, and rolls back, a Cluster created without its keys prepared', () => {
    expect(() => f.store.create(cluster('raw') as never, { actor: 'test' })).toThrow(/created without its CAs/);
    expect(f.store.get('Cluster', 'p', 'raw')).toBeUndefined();
  });

  it('signs kubeconfigs for owners, not for another project, and refuses a tampered sealed row', async () => {
    await req('POST', '/namespaces/p/clusters', f.admin, cluster('c1'));
    f.store.replaceStatus({ kind: 'Cluster', namespace: 'p', name: 'c1' }, { phase: 'Running', endpoint: 'https://api.c1.example:6443' }, { actor: 'test' });
    const owner = f.apiToken('o1', { type: 'api', role: 'owner', project: 'p' });
    const ok = await req('POST', '/namespaces/p/clusters/c1/kubeconfig', owner, { expirationSeconds: 600 });
    expect(ok.status).toBe(201);
    const answer = (await ok.json()) as { kubeconfig: string; expirationTimestamp: string };
    const k = YAML.parse(answer.kubeconfig) as { clusters: Array<{ cluster: { server: string } }>; users: Array<{ user: Record<string, string> }> };
    expect(k.clusters[0]!.cluster.server).toBe('https://api.c1.example:6443');
    const cert = new X509Certificate(Buffer.from(k.users[0]!.user['client-certificate-data']!, 'base64'));
    expect(new Date(cert.validTo).getTime()).toBe(new Date(answer.expirationTimestamp).getTime());
    expect(new Date(answer.expirationTimestamp).getTime() - f.clock.now().getTime()).toBeGreaterThan(599_000);
    // The answer is the proto message the OpenAPI documents, field for field.
    const message = lookupType('AdminKubeconfig');
    expect(Object.keys(answer).sort()).toEqual(message.fieldsArray.map((x) => x.name).sort());
    expect(message.verify(answer)).toBeNull();

    const other = f.apiToken('o2', { type: 'api', role: 'owner', project: 'q' });
    expect((await req('POST', '/namespaces/p/clusters/c1/kubeconfig', other, {})).status).toBe(403);
    expect((await req('POST', '/namespaces/p/clusters/c1/kubeconfig', owner, { expirationSeconds: 30 })).status).toBe(400);
    expect((await req('POST', '/namespaces/p/clusters/nope/kubeconfig', owner, {})).status).toBe(404);

    const row = f.store.clusterPki.get('p', 'c1')!;
    row.sealedKeys[row.sealedKeys.length - 1]! ^= 1;
    expect(() => pki.keys(row)).toThrow(/does not open/);
  });
});
