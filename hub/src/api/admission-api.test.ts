// Issue 11's admission rules as an operator meets them: the whole 422 answer for each rule, every problem
// gathered in one Status with the field it is about, and nothing written.
import type { ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API, ApiFixture, GV } from './api.fixture.js';

type Json = any;

let f: ApiFixture;

async function call(method: string, path: string, body: unknown, contentType?: string): Promise<{ status: number; body: Json }> {
  const res = await f.app.request(path, {
    method,
    headers: { authorization: `Bearer ${f.admin}`, 'content-type': contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json') },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const CLUSTERS = `${API}/namespaces/demo/clusters`;
const make = (kind: string, plural: string, name: string, spec: unknown) => call('POST', `${API}/${plural}`, { apiVersion: GV, kind, metadata: { name }, spec });
const cluster = (name: string, spec: Json = {}) => ({
  apiVersion: GV,
  kind: 'Cluster',
  metadata: { name, namespace: 'demo' },
  spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 }, ...spec },
});
/** The Status body of a 422 for `what`, with its causes. */
const invalid = (what: { kind: string; name: string; project?: string }, causes: Array<{ field: string; message: string }>) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `${what.kind} "${what.name}"${what.project ? ` in project "${what.project}"` : ''} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`,
  reason: 'Invalid',
  details: { name: what.name, group: 'outpost.dev', kind: what.kind, causes: causes.map((c) => ({ ...c, reason: 'FieldValueInvalid' })) },
  code: 422,
});

beforeEach(async () => {
  f = new ApiFixture();
  for (const [kind, plural, name, spec] of [
    ['Project', 'projects', 'demo', {}],
    ['Site', 'sites', 'store-0412', {}],
    ['Seed', 'seeds', 'seed1', {}],
    ['Datacenter', 'datacenters', 'hamburg-stores', { provider: 'edge', site: 'store-0412' }],
    ['Datacenter', 'datacenters', 'hamburg-seeds', { provider: 'edge', seed: 'seed1' }],
  ] as const) {
    expect((await make(kind, plural, name, spec)).status).toBe(201);
  }
  expect((await call('POST', CLUSTERS, cluster('pos'))).status).toBe(201);
});

afterEach(() => f.close());

describe('Cluster placement and replicas', () => {
  it('refuses a hosted Cluster on a site datacenter and 2 replicas in one answer', async () => {
    const before = f.store.revision();
    const r = await call('POST', CLUSTERS, cluster('till', { controlPlane: { mode: 'hosted', replicas: 2 } }));
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      invalid({ kind: 'Cluster', name: 'till', project: 'demo' }, [
        { field: 'spec.controlPlane.mode', message: 'datacenter "hamburg-stores" is served by site "store-0412", which runs kubeadm control planes only; use mode kubeadm, or a datacenter served by a seed' },
        { field: 'spec.controlPlane.replicas', message: 'must be 1 or 3, not 2 (leave it out for 1): etcd needs an odd number of members, and 3 is enough to lose one' },
      ]),
    );
    expect(f.store.revision()).toBe(before);
  });

  it('refuses a kubeadm Cluster on a seed datacenter, and takes replicas left out as 1', async () => {
    const r = await call('POST', CLUSTERS, cluster('till', { datacenter: 'hamburg-seeds', controlPlane: { mode: 'kubeadm' } }));
    expect(r.body.details.causes).toEqual([
      { field: 'spec.controlPlane.mode', message: 'datacenter "hamburg-seeds" is served by seed "seed1", which runs hosted control planes only; use mode hosted, or a datacenter served by a site', reason: 'FieldValueInvalid' },
    ]);
    expect((await call('POST', CLUSTERS, cluster('till', { datacenter: 'hamburg-seeds', controlPlane: { mode: 'hosted' } }))).status).toBe(201);
  });
});

describe('the Hosts a Cluster names (site mode)', () => {
  const KEY = `SHA256:${'A'.repeat(43)}`;
  const hosts = async () => {
    expect((await make('Site', 'sites', 'store-0413', {})).status).toBe(201);
    for (const [name, siteName] of [['h0', 'store-0412'], ['h1', 'store-0412'], ['h2', 'store-0412'], ['far', 'store-0413']]) {
      expect((await make('Host', 'hosts', name!, { site: siteName, address: '10.0.0.1', sshPort: 22, sshUser: 'root', hostKey: KEY })).status).toBe(201);
    }
  };

  it('admits a kubeadm cluster on its site\'s hosts, and static workers of a hosted cluster from any site', async () => {
    await hosts();
    expect((await call('POST', CLUSTERS, cluster('a', { controlPlane: { mode: 'kubeadm', hosts: ['h0'] }, workers: [{ name: 'w', hosts: ['h1'] }], network: { cni: 'bridge' } }))).status).toBe(201);
    expect((await call('POST', CLUSTERS, cluster('b', { datacenter: 'hamburg-seeds', controlPlane: { mode: 'hosted' }, workers: [{ name: 'w', hosts: ['far'] }] }))).status).toBe(201);
  });

  it('refuses each wrong host in one answer, naming its field, writing nothing', async () => {
    await hosts();
    expect((await call('POST', CLUSTERS, cluster('a', { controlPlane: { mode: 'kubeadm', hosts: ['h0'] } }))).status).toBe(201);
    const before = f.store.revision();
    const r = await call('POST', CLUSTERS, cluster('till', {
      controlPlane: { mode: 'kubeadm', replicas: 3, hosts: ['h1', 'nope'] },
      workers: [{ name: 'w', hosts: ['h1', 'far', 'h0'] }],
      network: { cni: 'calico' },
    }));
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: { field: string; message: string }) => [c.field, c.message])).toEqual([
      ['spec.network.cni', '"calico" is not one Outpost installs (bridge); leave it out for bridge'],
      ['spec.controlPlane.hosts', 'names 2 hosts for 3 control-plane replicas; name exactly 3, the first is where kubeadm init runs'],
      ['spec.controlPlane.hosts[1]', 'host "nope" does not exist; create it first (outpost get hosts lists them)'],
      ['spec.workers[0].hosts[0]', 'host "h1" is already listed at spec.controlPlane.hosts[0]; a host has one role in a cluster'],
      ['spec.workers[0].hosts[1]', 'host "far" is at site "store-0413", but datacenter "hamburg-stores" is served by site "store-0412"; use that site\'s hosts'],
      ['spec.workers[0].hosts[2]', 'host "h0" is used by cluster demo/a; remove it there first'],
    ]);
    expect(f.store.revision()).toBe(before);
    // A hosted control plane has no hosts of its own.
    const hosted = await call('POST', CLUSTERS, cluster('till', { datacenter: 'hamburg-seeds', controlPlane: { mode: 'hosted', hosts: ['h2'] } }));
    expect(hosted.body.details.causes[0].field).toBe('spec.controlPlane.hosts');
  });

  it('lets a cluster keep its own hosts when it is changed, and pins a bastion like the host', async () => {
    await hosts();
    expect((await call('POST', CLUSTERS, cluster('a', { controlPlane: { mode: 'kubeadm', hosts: ['h0'] }, workers: [{ name: 'w', hosts: ['h1'] }] }))).status).toBe(201);
    expect((await call('PATCH', `${CLUSTERS}/a`, { spec: { workers: [{ name: 'w', hosts: ['h1', 'h2'] }] } })).status).toBe(200);
    const r = await make('Host', 'hosts', 'behind', { site: 'store-0412', address: '10.0.0.9', hostKey: KEY, bastion: { address: '10.0.0.1', hostKey: 'MD5:aa' } });
    expect(r.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.bastion.hostKey']);
    const unpinned = await make('Host', 'hosts', 'behind', { site: 'store-0412', address: '10.0.0.9', hostKey: KEY, bastion: { address: '10.0.0.1' } });
    expect(unpinned.body.details.causes[0].message).toMatch(/^is required: the bastion's key is pinned as the host's is/);
  });
});

describe('Cluster version changes follow the Release rules', () => {
  it('allows a patch and the next minor, with or without a leading v', async () => {
    for (const version of ['1.33.5', 'v1.33.2', '1.34.0']) {
      const r = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version } });
      expect([version, r.status]).toEqual([version, 200]);
    }
  });

  it('refuses skipping a minor with the allowed versions, writing nothing', async () => {
    const before = f.store.revision();
    const r = await call('PATCH', `${CLUSTERS}/pos`, { spec: { version: '1.35.0' } });
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      invalid({ kind: 'Cluster', name: 'pos', project: 'demo' }, [
        { field: 'spec.version', message: 'cannot skip from 1.33.0 to 1.35.0; from 1.33.0 a cluster may move to any 1.33 patch (1.33.x), or the next minor, 1.34 (1.34.x). Upgrade one minor at a time: first to 1.34' },
      ]),
    );
    expect(f.store.revision()).toBe(before);
    expect(f.store.get<ResourceObject & { spec: { version: string } }>('Cluster', 'demo', 'pos')!.spec.version).toBe('1.33.0');
  });

  it('refuses a downgrade by PUT, gathered with an immutable field and a bad replica count', async () => {
    const current = (await call('GET', `${CLUSTERS}/pos`, undefined)).body;
    const r = await call('PUT', `${CLUSTERS}/pos`, { ...current, spec: { ...current.spec, version: '1.32.9', datacenter: 'hamburg-seeds', controlPlane: { mode: 'kubeadm', replicas: 5 } } });
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: Json) => c.field)).toEqual(['spec.controlPlane.mode', 'spec.controlPlane.replicas', 'spec.datacenter', 'spec.version']);
    expect(r.body.details.causes[3].message).toBe(
      'cannot downgrade from 1.33.0 to 1.32.9: a minor version never goes back; from 1.33.0 a cluster may move to any 1.33 patch (1.33.x), or the next minor, 1.34 (1.34.x). Create a new Cluster for 1.32',
    );
  });

  it('refuses a skip by server-side apply too', async () => {
    const yaml = `apiVersion: ${GV}\nkind: Cluster\nmetadata: {name: pos, namespace: demo}\nspec: {version: "1.36.1", datacenter: hamburg-stores, controlPlane: {mode: kubeadm, replicas: 1}}\n`;
    const r = await call('PATCH', `${CLUSTERS}/pos?fieldManager=ci&force=true`, yaml, 'application/apply-patch+yaml');
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: Json) => c.field)).toEqual(['spec.version']);
    expect(r.body.message).toMatch(/cannot skip from 1\.33\.0 to 1\.36\.1; .*first to 1\.34$/);
  });
});

describe('Release components', () => {
  it('refuses unknown components and malformed image references, naming spec.components.<name>', async () => {
    const r = await make('Release', 'releases', '1.33.0', {
      version: '1.33.0',
      components: { 'kube-apiserver': 'registry.k8s.io/kube-apiserver', etcd: 'registry.k8s.io/etcd:3.5.21-0', kubelet: 'registry.k8s.io/kubelet:v1.33.0', pause: 'registry.k8s.io/pause:3.10:x' },
    });
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      invalid({ kind: 'Release', name: '1.33.0' }, [
        {
          field: 'spec.components.kube-apiserver',
          message: '"registry.k8s.io/kube-apiserver" names no tag or digest; pin one, such as "registry.k8s.io/kube-apiserver:v1.33.0" or "registry.k8s.io/kube-apiserver@sha256:<digest>", so the Release always means the same image',
        },
        { field: 'spec.components.kubelet', message: '"kubelet" is not a component Outpost installs; use one of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, coredns, pause' },
        {
          field: 'spec.components.pause',
          message: '"registry.k8s.io/pause:3.10:x" is not an image reference (invalid reference format); write it as REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST, such as "registry.k8s.io/kube-apiserver:v1.33.0"',
        },
      ]),
    );
    expect(f.store.get('Release', '', '1.33.0')).toBeUndefined();
  });

  it('admits a Release whose components are known and pinned', async () => {
    const r = await make('Release', 'releases', '1.33.0', { version: '1.33.0', components: { 'kube-apiserver': 'registry.k8s.io/kube-apiserver:v1.33.0', etcd: `registry.k8s.io/etcd@sha256:${'e'.repeat(64)}` } });
    expect(r.status).toBe(201);
  });
});

describe('Datacenter moves', () => {
  it('refuses moving a datacenter to a seed while it holds kubeadm clusters, naming them', async () => {
    const r = await call('PATCH', `${API}/datacenters/hamburg-stores`, { spec: { site: null, seed: 'seed1' } });
    expect(r.status).toBe(422);
    expect(r.body).toEqual(
      invalid({ kind: 'Datacenter', name: 'hamburg-stores' }, [
        {
          field: 'spec.seed',
          message: 'datacenter "hamburg-stores" is served by seed "seed1", which runs hosted control planes only, but the datacenter holds kubeadm clusters (demo/pos); delete those clusters first, or keep this datacenter as it is and create a new one for seed "seed1"',
        },
      ]),
    );
    expect(f.store.get<Json>('Datacenter', '', 'hamburg-stores').spec).toEqual({ provider: 'edge', site: 'store-0412' });
  });

  it('lets a datacenter whose clusters fit move to another server of the same kind, or a datacenter with none change kind', async () => {
    expect((await make('Site', 'sites', 'store-0413', {})).status).toBe(201);
    expect((await call('PATCH', `${API}/datacenters/hamburg-stores`, { spec: { site: 'store-0413' } })).status).toBe(200);
    expect((await call('PATCH', `${API}/datacenters/hamburg-seeds`, { spec: { seed: null, site: 'store-0413' } })).status).toBe(200);
  });
});
