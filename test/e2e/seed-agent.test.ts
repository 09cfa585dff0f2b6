// The seed agent against a real seed: a hub process, a seed agent process joined with a bootstrap token and
// run with --kubeconfig (the service account deploy/seed-agent grants, so its RBAC is shown to suffice), and
// the test world's Kubernetes. A hosted Cluster gets its namespace on the seed, labelled and applied by the
// agent's field manager; deleting the Cluster deletes the namespace, and only then the Cluster. Its Release
// names an etcd image no node has, so each flow stops at etcd and its condition says which image and what
// to do (a control plane that runs is hosted-control-plane.test.ts's).
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, datacenter, project, seed } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MANIFESTS = join(ROOT, 'deploy/seed-agent');
const K = (n: string) => findKind(n)!;
const SA = 'system:serviceaccount:outpost-system:outpost-agent';
/** Over 63 characters as cluster-p-<name>: the namespace is cut and hashed. */
const LONG = 'point-of-sale-and-inventory-for-every-store-in-the-north';
/** Not on the seed's node, and no registry serves it. */
const MISSING_ETCD = 'outpost.local/etcd:v0.0.0-missing';
/** The Release of the clusters' version: its etcd image is one the seed cannot get. */
const RELEASE = {
  apiVersion: 'outpost.dev/v1alpha1',
  kind: 'Release',
  metadata: { name: '1.33.0' },
  spec: { version: '1.33.0', components: { etcd: MISSING_ETCD, 'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4', 'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.34.4', 'kube-scheduler': 'outpost.local/kube-scheduler:v1.34.4' } },
};

interface ManagedField {
  manager?: string;
  operation?: string;
}

describe('seed agent: hosted control planes on a real seed', () => {
  let world: SeedCluster;
  let hub: TestHub;
  let agent: TestAgent;

  const getCluster = (name: string) => hub.api().get<Cluster>(K('clusters'), name, 'p');
  const namespaceJson = (name: string): { metadata: { labels?: Record<string, string>; managedFields?: ManagedField[] } } | undefined => {
    const out = world.kubectl('get', 'namespace', name, '--ignore-not-found', '--show-managed-fields', '-o', 'json');
    return out.trim() ? (JSON.parse(out) as { metadata: { labels?: Record<string, string>; managedFields?: ManagedField[] } }) : undefined;
  };
  const hubHas = async (name: string): Promise<boolean> => {
    try {
      await getCluster(name);
      return true;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return false;
      throw err;
    }
  };

  beforeAll(async () => {
    [world, hub] = await Promise.all([startSeedCluster(), TestHub.start({ heartbeatMs: 500 })]);
    // The agent's own namespace and RBAC, for real: it then runs as that service account.
    world.kubectl('apply', '-f', join(MANIFESTS, '00-namespace.yaml'), '-f', join(MANIFESTS, '10-rbac.yaml'));
    const token = world.kubectl('create', 'token', 'outpost-agent', '-n', 'outpost-system', '--duration=1h').trim();
    const kubeconfig = join(hub.dir, 'seed-agent.kubeconfig');
    const ca = join(world.dir, 'pki', 'ca.crt');
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: seed, cluster: {server: '${world.apiServerUrl}', certificate-authority: '${ca}'}}]
users: [{name: outpost-agent, user: {token: '${token}'}}]
contexts: [{name: seed, context: {cluster: seed, user: outpost-agent}}]
current-context: seed
`);
    await hub.apply(project('p'), RELEASE, seed('fra-1'), datacenter('dc-fra', { seed: 'fra-1' }));
    agent = await TestAgent.join(hub, { seed: 'fra-1' }, 'seed');
    agent.start([], { kubeconfig });
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await world?.stop();
  });

  it('makes a hosted Cluster its labelled namespace by server-side apply, and says so in the status', async () => {
    await hub.apply(cluster('web', 'p', 'dc-fra', { mode: 'hosted' }), cluster(LONG, 'p', 'dc-fra', { mode: 'hosted' }));
    const ns = await waitFor('namespace cluster-p-web', () => namespaceJson('cluster-p-web'), 60_000, 250);
    expect(ns.metadata.labels).toMatchObject({ 'outpost.dev/project': 'p', 'outpost.dev/cluster': 'web' });
    expect(ns.metadata.managedFields?.filter((f) => f.manager === 'outpost-agent').map((f) => f.operation)).toEqual(['Apply']);

    const c = await waitFor('NamespaceReady on the hub', async () => {
      const got = await getCluster('web');
      return got.status?.conditions?.some((x) => x.type === 'NamespaceReady' && x.status === 'True') && got;
    }, 60_000, 250);
    expect(c.status?.conditions?.find((x) => x.type === 'SeedReachable')).toMatchObject({ status: 'True', observedGeneration: c.metadata.generation });
    expect(c.status?.conditions?.find((x) => x.type === 'NamespaceReady')?.message).toBe('namespace cluster-p-web on the seed');
    // etcd's image is not there: the flow stops at etcd, says which image and what to do, and it is not Running.
    expect(c.status?.phase).toBe('Creating');
    const etcd = await waitFor('EtcdReady=False ImageMissing', async () => {
      const got = (await getCluster('web')).status?.conditions?.find((x) => x.type === 'EtcdReady');
      return got?.reason === 'ImageMissing' && got;
    }, 90_000, 250);
    expect(etcd.status).toBe('False');
    expect(etcd.message).toContain(`etcd's image ${MISSING_ETCD} is not on node`);
    expect(etcd.message).toContain("point Release 1.33.0's spec.components.etcd at an image the seed can get");

    // The long one's namespace is cut and hashed, and the real apiserver takes it.
    const long = await waitFor('the long cluster\'s namespace', () => {
      const names = world.kubectl('get', 'namespaces', '-l', `outpost.dev/cluster=${LONG}`, '-o', 'jsonpath={.items[*].metadata.name}').trim();
      return names || undefined;
    }, 60_000, 250);
    expect(long).toMatch(/^cluster-p-point-of-sale-and-inventory-for-every-stor-[0-9a-f]{10}$/);
    expect(long.length).toBeLessThanOrEqual(63);
  });

  it('puts back a namespace deleted behind its back on the next reconcile', async () => {
    // Not waited for here: its pods take seconds to go, and the hub's client would find its kept-alive
    // connection closed by the hub meanwhile (socket hang up). The agent waits for it to go, then makes it again.
    const uid = world.kubectl('get', 'namespace', 'cluster-p-web', '-o', 'jsonpath={.metadata.uid}');
    world.kubectl('delete', 'namespace', 'cluster-p-web', '--wait=false');
    // Any change to the Cluster reconciles it now, rather than at the next resync (10 minutes).
    await hub.api().patch(K('clusters'), 'web', { metadata: { labels: { touched: 'yes' } } }, 'p');
    await waitFor('namespace back', () => (namespaceJson('cluster-p-web') as { metadata: { uid?: string } } | undefined)?.metadata.uid !== uid && namespaceJson('cluster-p-web'), 90_000, 250);
  });

  it('deletes the namespace when the Cluster is deleted, and only then lets the Cluster go', async () => {
    await hub.api().delete(K('clusters'), 'web', 'p');
    // While the namespace is there the Cluster stays (Terminating, held by the agent's finalizer).
    const seenTerminating = await waitFor('the Cluster Terminating', async () => {
      if (!(await hubHas('web'))) return 'gone';
      return (await getCluster('web')).metadata.deletionTimestamp ? 'terminating' : undefined;
    }, 30_000, 100);
    await waitFor('the Cluster gone from the hub', async () => !(await hubHas('web')), 120_000, 250);
    // Gone from the hub means gone from the seed first.
    expect(namespaceJson('cluster-p-web')).toBeUndefined();
    expect(['terminating', 'gone']).toContain(seenTerminating);
    // The other cluster's namespace is untouched.
    expect(world.kubectl('get', 'namespaces', '-l', `outpost.dev/cluster=${LONG}`, '-o', 'name').trim()).not.toBe('');
  });

  it("grants the agent's service account what it needs and not more", () => {
    const can = (verb: string, resource: string, ns?: string): string => {
      try {
        return world.kubectl('auth', 'can-i', verb, resource, `--as=${SA}`, ...(ns ? ['-n', ns] : [])).trim();
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? (err as Error).message).trim();
      }
    };
    for (const [verb, resource] of [['create', 'namespaces'], ['delete', 'namespaces'], ['patch', 'secrets'], ['create', 'statefulsets.apps'], ['patch', 'deployments.apps'], ['create', 'poddisruptionbudgets.policy'], ['create', 'persistentvolumeclaims'], ['create', 'services'], ['list', 'pods'], ['list', 'nodes'], ['list', 'storageclasses.storage.k8s.io']] as const) {
      expect(`${verb} ${resource}: ${can(verb, resource, 'cluster-x')}`).toBe(`${verb} ${resource}: yes`);
    }
    for (const [verb, resource] of [['delete', 'pods'], ['patch', 'nodes'], ['create', 'clusterroles.rbac.authorization.k8s.io'], ['get', 'configmaps']] as const) {
      expect(`${verb} ${resource}: ${can(verb, resource, 'cluster-x')}`).not.toBe(`${verb} ${resource}: yes`);
    }
  });

  it('has deploy/seed-agent manifests the real apiserver accepts (kubectl apply --dry-run=server)', () => {
    const files = readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['00-namespace.yaml', '10-rbac.yaml', '20-join-secret.yaml', '30-deployment.yaml']);
    // The namespace exists (applied above), so its namespaced objects are checked too, not refused as NotFound.
    const out = world.kubectl('apply', '--dry-run=server', ...files.flatMap((f) => ['-f', join(MANIFESTS, f)]));
    for (const kind of ['namespace/outpost-system', 'serviceaccount/outpost-agent', 'clusterrole.rbac.authorization.k8s.io/outpost-seed-agent', 'clusterrolebinding.rbac.authorization.k8s.io/outpost-seed-agent', 'secret/outpost-agent-join', 'persistentvolumeclaim/outpost-agent-data', 'deployment.apps/outpost-agent']) {
      expect(out).toMatch(new RegExp(`${kind.replace(/[.]/g, '\\.')} (created|configured|unchanged) \\(server dry run\\)`));
    }
    // Nothing was made by the dry run.
    expect(world.kubectl('get', 'deployments', '-n', 'outpost-system', '-o', 'name').trim()).toBe('');
  });
});
