// Admission's rules as pure logic, against an in-memory catalogue (the API-level answers are in
// admission-api.test.ts).
import type { Cluster, Datacenter, FieldProblem, Release, ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { admit, admitChange, type AdmissionLookup } from './admission.js';
import { imageReferenceProblem } from './release-components.js';

const GV = 'outpost.dev/v1alpha1';
const obj = <T extends ResourceObject>(kind: string, name: string, spec: unknown, namespace?: string): T => ({ apiVersion: GV, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec }) as T;
const dc = (name: string, by: { seed?: string; site?: string }) => obj<Datacenter>('Datacenter', name, { provider: 'edge', ...by });
const cluster = (name: string, spec: Partial<NonNullable<Cluster['spec']>> = {}) =>
  obj<Cluster>('Cluster', name, { version: '1.33.0', datacenter: 'stores', controlPlane: { mode: 'kubeadm', replicas: 1 }, ...spec }, 'demo');
const release = (name: string, spec: NonNullable<Release['spec']>) => obj<Release>('Release', name, spec);

/** A catalogue of objects by kind/namespace/name, as the store answers admission. */
function catalogue(...objects: ResourceObject[]): AdmissionLookup {
  const key = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;
  const all = new Map(objects.map((o) => [key(o.kind, o.metadata.namespace ?? '', o.metadata.name ?? ''), o]));
  return {
    exists: (kind, ns, name) => all.has(key(kind, ns, name)),
    get: <T extends ResourceObject>(kind: string, ns: string, name: string) => all.get(key(kind, ns, name)) as T | undefined,
    clustersIn: (datacenter) => [...all.values()].filter((o): o is Cluster => o.kind === 'Cluster' && (o as Cluster).spec?.datacenter === datacenter),
    clustersUsingHost: (host) =>
      [...all.values()].filter((o): o is Cluster => o.kind === 'Cluster' && [...((o as Cluster).spec?.controlPlane?.hosts ?? []), ...((o as Cluster).spec?.workers ?? []).flatMap((w) => w.hosts ?? [])].includes(host)),
  };
}

const world = (...more: ResourceObject[]) =>
  catalogue(obj('Site', 'store-0412', {}), obj('Seed', 'seed1', {}), dc('stores', { site: 'store-0412' }), dc('seeds', { seed: 'seed1' }), ...more);
const fields = (problems: FieldProblem[]) => problems.map((p) => p.field);

describe('Cluster control-plane mode against its datacenter', () => {
  it('allows kubeadm on a site and hosted on a seed', () => {
    expect(admit(cluster('pos'), world())).toEqual([]);
    expect(admit(cluster('pos', { datacenter: 'seeds', controlPlane: { mode: 'hosted', replicas: 3 } }), world())).toEqual([]);
  });

  it('refuses hosted on a site and kubeadm on a seed, saying what to use instead', () => {
    expect(admit(cluster('pos', { controlPlane: { mode: 'hosted' } }), world())).toEqual([
      { field: 'spec.controlPlane.mode', message: 'datacenter "stores" is served by site "store-0412", which runs kubeadm control planes only; use mode kubeadm, or a datacenter served by a seed' },
    ]);
    expect(admit(cluster('pos', { datacenter: 'seeds', controlPlane: { mode: 'kubeadm' } }), world())).toEqual([
      { field: 'spec.controlPlane.mode', message: 'datacenter "seeds" is served by seed "seed1", which runs hosted control planes only; use mode hosted, or a datacenter served by a site' },
    ]);
  });
});

describe('Cluster control-plane replicas', () => {
  it('takes 1 and 3, and 0 or unset as the default 1', () => {
    for (const replicas of [1, 3, 0, undefined]) expect(admit(cluster('pos', { controlPlane: { mode: 'kubeadm', replicas } }), world()), String(replicas)).toEqual([]);
  });

  it('refuses any other count', () => {
    for (const replicas of [2, 4, 5]) {
      const problems = admit(cluster('pos', { controlPlane: { mode: 'kubeadm', replicas } }), world());
      expect(fields(problems)).toEqual(['spec.controlPlane.replicas']);
      expect(problems[0]!.message).toBe(`must be 1 or 3, not ${replicas} (leave it out for 1): etcd needs an odd number of members, and 3 is enough to lose one`);
    }
  });
});

describe('Cluster version changes (admitChange)', () => {
  const step = (from: string, to: string) => admitChange(cluster('pos', { version: from }), cluster('pos', { version: to }));

  it('allows any patch in the same minor and the next minor, with or without a leading v', () => {
    expect(step('1.33.0', '1.33.5')).toEqual([]);
    expect(step('1.33.0', '1.34.0')).toEqual([]);
    expect(step('v1.33.0', '1.34.0')).toEqual([]);
    expect(step('1.33.0', 'v1.33.5')).toEqual([]);
    expect(step('1.33.5', '1.33.0')).toEqual([]);
    expect(step('1.33.0', '1.33.0')).toEqual([]);
  });

  it('refuses a skipped minor, a minor downgrade and a major change, naming spec.version and the allowed versions', () => {
    expect(step('1.33.0', '1.35.0')).toEqual([
      { field: 'spec.version', message: 'cannot skip from 1.33.0 to 1.35.0; from 1.33.0 a cluster may move to any 1.33 patch (1.33.x), or the next minor, 1.34 (1.34.x). Upgrade one minor at a time: first to 1.34' },
    ]);
    const down = step('1.33.0', '1.32.9');
    expect(fields(down)).toEqual(['spec.version']);
    expect(down[0]!.message).toMatch(/^cannot downgrade from 1\.33\.0 to 1\.32\.9: .*any 1\.33 patch \(1\.33\.x\), or the next minor, 1\.34 \(1\.34\.x\)\. Create a new Cluster for 1\.32$/);
    expect(fields(step('v1.33.0', 'v2.0.0'))).toEqual(['spec.version']);
  });

  it('leaves a malformed version to the field check, and gathers the step with the immutable fields', () => {
    expect(step('1.33.0', 'latest')).toEqual([]);
    expect(fields(admit(cluster('pos', { version: 'latest' }), world()))).toEqual(['spec.version']);
    const moved = admitChange(cluster('pos'), cluster('pos', { version: '1.36.0', datacenter: 'seeds', controlPlane: { mode: 'hosted' } }));
    expect(fields(moved)).toEqual(['spec.datacenter', 'spec.controlPlane.mode', 'spec.version']);
  });

  it('says nothing for kinds without change rules', () => {
    expect(admitChange(dc('stores', { site: 'a' }), dc('stores', { seed: 'b' }))).toEqual([]);
  });
});

describe('Release', () => {
  const components = {
    etcd: 'registry.k8s.io/etcd:3.5.21-0',
    'kube-apiserver': 'registry.k8s.io/kube-apiserver:v1.33.0',
    'kube-controller-manager': 'registry.k8s.io/kube-controller-manager:v1.33.0',
    'kube-scheduler': 'registry.k8s.io/kube-scheduler@sha256:' + 'a'.repeat(64),
    'kube-proxy': 'mirror.store-0412.local:5000/kube-proxy:v1.33.0',
    coredns: 'registry.k8s.io/coredns/coredns:v1.12.0',
    pause: 'registry.k8s.io/pause:3.10',
  };

  it('admits known components with pinned image references, and none at all', () => {
    expect(admit(release('1.33.0', { version: '1.33.0', components }), world())).toEqual([]);
    expect(admit(release('1.33.0', {}), world())).toEqual([]);
    expect(admit(release('v1.33.0', { version: 'v1.33.0' }), world())).toEqual([]);
  });

  it('refuses an unknown component name, naming spec.components.<name> and the known ones', () => {
    expect(admit(release('1.33.0', { components: { 'kube-apiserve': 'registry.k8s.io/kube-apiserver:v1.33.0' } }), world())).toEqual([
      { field: 'spec.components.kube-apiserve', message: '"kube-apiserve" is not a component Outpost installs; use one of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, coredns, pause' },
    ]);
  });

  it('refuses malformed or unpinned image references, every one in one answer', () => {
    const problems = admit(
      release('1.33.0', { components: { etcd: 'registry.k8s.io/Etcd:3.5', 'kube-apiserver': 'registry.k8s.io/kube-apiserver', 'kube-scheduler': 'registry.k8s.io/s@sha256:abc', pause: 'pause 3.10', coredns: '' } }),
      world(),
    );
    expect(fields(problems)).toEqual(['spec.components.etcd', 'spec.components.kube-apiserver', 'spec.components.kube-scheduler', 'spec.components.pause', 'spec.components.coredns']);
    expect(problems[0]!.message).toMatch(/^"registry\.k8s\.io\/Etcd:3\.5" is not an image reference \(.*lowercase\); write it as REGISTRY\/REPOSITORY:TAG/);
    expect(problems[1]!.message).toBe('"registry.k8s.io/kube-apiserver" names no tag or digest; pin one, such as "registry.k8s.io/kube-apiserver:v1.33.0" or "registry.k8s.io/kube-apiserver@sha256:<digest>", so the Release always means the same image');
  });

  it('refuses a Release that stands for no Kubernetes version, naming the field it came from', () => {
    expect(fields(admit(release('latest', {}), world()))).toEqual(['metadata.name']);
    expect(fields(admit(release('r1', { version: '1.33' }), world()))).toEqual(['spec.version']);
    expect(admit(release('r1', { version: '1.33.0' }), world())).toEqual([]);
  });

  it('parses references by the distribution grammar', () => {
    for (const ok of ['registry.k8s.io/pause:3.10', 'localhost:5000/pause:3.10', 'pause:3.10', `r.example/a/b/c@sha256:${'0'.repeat(64)}`, `r.example/a:v1@sha256:${'0'.repeat(64)}`]) expect(imageReferenceProblem(ok), ok).toBeUndefined();
    for (const bad of ['registry.k8s.io/pause:', ':3.10', 'registry.k8s.io/pause:3.10 ', '-x/pause:1', `pause:${'a'.repeat(129)}`]) expect(imageReferenceProblem(bad), bad).toMatch(/is not an image reference/);
  });
});

describe('Datacenter moves', () => {
  const hosted = (name: string, datacenter = 'seeds') => cluster(name, { datacenter, controlPlane: { mode: 'hosted' } });

  it('lets a datacenter with no clusters, or clusters that fit, change who serves it', () => {
    expect(admit(dc('stores', { seed: 'seed1' }), world())).toEqual([]);
    expect(admit(dc('seeds', { seed: 'seed1' }), world(hosted('a')))).toEqual([]);
    expect(admit(dc('stores', { seed: 'seed1' }), world(cluster('elsewhere', { datacenter: 'other' })))).toEqual([]);
  });

  it('refuses a move from a seed to a site that would strand its hosted clusters, naming them', () => {
    expect(admit(dc('seeds', { site: 'store-0412' }), world(hosted('a'), hosted('b')))).toEqual([
      {
        field: 'spec.site',
        message: 'datacenter "seeds" is served by site "store-0412", which runs kubeadm control planes only, but the datacenter holds hosted clusters (demo/a, demo/b); delete those clusters first, or keep this datacenter as it is and create a new one for site "store-0412"',
      },
    ]);
  });

  it('refuses a move from a site to a seed that would strand kubeadm clusters, naming five and counting the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) => cluster(`c${i}`));
    const problems = admit(dc('stores', { seed: 'seed1' }), world(...many));
    expect(fields(problems)).toEqual(['spec.seed']);
    expect(problems[0]!.message).toContain('holds kubeadm clusters (demo/c0, demo/c1, demo/c2, demo/c3, demo/c4 and 2 more)');
  });
});

describe('Seed endpoint Service type', () => {
  it('takes NodePort, LoadBalancer or nothing, and refuses anything else naming the field', () => {
    for (const t of [undefined, 'NodePort', 'LoadBalancer']) expect(admit(obj('Seed', 's', t ? { endpointServiceType: t } : {}), world())).toEqual([]);
    const [problem] = admit(obj('Seed', 's', { endpointServiceType: 'ClusterIP' }), world());
    expect(problem?.field).toBe('spec.endpointServiceType');
    expect(problem?.message).toContain('"ClusterIP" is not one of NodePort, LoadBalancer');
  });
});

describe('static workers of a hosted control plane', () => {
  const host = (name: string, site: string) => obj('Host', name, { site, address: '10.0.0.1' });
  const hostedWorld = () => world(obj('Site', 'shop-2', {}), host('a1', 'store-0412'), host('a2', 'store-0412'), host('b1', 'shop-2'));
  const hosted = (workers: NonNullable<Cluster['spec']>['workers'], controlPlane: NonNullable<Cluster['spec']>['controlPlane'] = { mode: 'hosted' }) => cluster('pos', { datacenter: 'seeds', controlPlane, workers });

  it('takes hosts of one site, in any number of pools', () => {
    expect(admit(hosted([{ name: 'tills', hosts: ['a1'] }, { name: 'back', hosts: ['a2'] }]), hostedWorld())).toEqual([]);
    expect(admit(hosted([{ name: 'tills', hosts: ['b1'] }]), hostedWorld())).toEqual([]);
  });

  it('refuses workers from two sites, naming the host that differs and where the first one is', () => {
    expect(admit(hosted([{ name: 'tills', hosts: ['a1'] }, { name: 'back', hosts: ['b1'] }]), hostedWorld())).toEqual([
      { field: 'spec.workers[1].hosts[0]', message: 'host "b1" is at site "shop-2", but spec.workers[0].hosts[0] is at site "store-0412"; a hosted cluster\'s static workers are joined by one site\'s agent, so take them all from one site' },
    ]);
  });

  it('refuses a host another cluster uses, and control-plane hosts for a hosted control plane', () => {
    const other = obj<Cluster>('Cluster', 'other', { version: '1.33.0', datacenter: 'seeds', controlPlane: { mode: 'hosted' }, workers: [{ name: 'w', hosts: ['a1'] }] }, 'demo');
    expect(fields(admit(hosted([{ name: 'tills', hosts: ['a1'] }]), catalogue(obj('Site', 'store-0412', {}), obj('Seed', 'seed1', {}), dc('seeds', { seed: 'seed1' }), host('a1', 'store-0412'), other)))).toEqual(['spec.workers[0].hosts[0]']);
    expect(fields(admit(hosted([{ name: 'tills', hosts: ['a1'] }], { mode: 'hosted', hosts: ['a2'] }), hostedWorld()))).toEqual(['spec.controlPlane.hosts']);
  });
});
