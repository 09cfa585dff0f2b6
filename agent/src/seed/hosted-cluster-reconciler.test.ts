// The reconciler's decisions against an in-memory seed (the real apiserver is test/e2e/hosted-control-plane.test.ts's).
import { generateKeyPairSync } from 'node:crypto';
import type { ClusterKeys, ResourceObject } from '@outpost/proto';
import { createCa } from '@outpost/proto/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { FlowFailedError, MemoryFlowJournal, type FlowJournal } from '../engine/index.js';
import type { ReconcileContext, StatusPatch } from '../reconcile/reconciler.js';
import { NamespaceTakenError } from './errors.js';
import { HostedClusterReconciler, type HostedClusterOptions } from './hosted-cluster-reconciler.js';
import type { Drift } from './drift.js';
import { MemorySeed } from './memory-seed.fixture.js';
import type { DriftWatch } from './seed-watch.js';

const hosted = (name = 'web', replicas = 1): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', uid: 'u', generation: 3 }, spec: { version: '1.34.4', controlPlane: { mode: 'hosted', replicas } } });
const OURS = { 'outpost.dev/project': 'p', 'outpost.dev/cluster': 'web' };
const IMAGES = { etcd: 'outpost.local/etcd:v3.6.16', 'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4', 'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.34.4', 'kube-scheduler': 'outpost.local/kube-scheduler:v1.34.4' };
const release = (components: Record<string, string> = IMAGES): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: '1.34.4' }, spec: { version: '1.34.4', components } });

let keys: ClusterKeys;
beforeAll(async () => {
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const [ca, frontProxyCa, etcdCa] = await Promise.all([createCa('kubernetes'), createCa('front-proxy-ca'), createCa('etcd-ca')]);
  keys = { ca, frontProxyCa, etcdCa, serviceAccount: { publicKeyPem: sa.publicKey, privateKeyPem: sa.privateKey } };
});

interface World {
  releases?: ResourceObject[];
  withKeys?: boolean;
  journal?: FlowJournal;
}

function context(w: World = {}): { ctx: ReconcileContext; reports: StatusPatch[] } {
  const reports: StatusPatch[] = [];
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const ctx: ReconcileContext = {
    signal: new AbortController().signal,
    view: { get: () => undefined, list: (kind) => (kind === 'Release' ? (w.releases ?? [release()]) : []) },
    journal: w.journal ?? new MemoryFlowJournal(),
    secrets: { clusterKeys: (uid) => (w.withKeys === false || uid !== 'u' ? undefined : keys) },
    report: (p) => reports.push(p),
    log: quiet,
  };
  return { ctx, reports };
}
const conditionsOf = (patches: readonly StatusPatch[]) => Object.fromEntries(patches.flatMap((p) => p.conditions ?? []).map((c) => [c.type, [c.status, c.reason]]));
const messageOf = (patches: readonly StatusPatch[], type: string) => patches.flatMap((p) => p.conditions ?? []).filter((c) => c.type === type).at(-1)?.message ?? '';
const reconciler = (seed: MemorySeed, o: Partial<HostedClusterOptions> = {}) => new HostedClusterReconciler({ api: seed, pollMs: 1, probe: async () => ({ status: 200, body: 'ok' }), ...o });

describe('HostedClusterReconciler', () => {
  it('owns hosted Clusters only', () => {
    const r = reconciler(new MemorySeed());
    expect(r.owns(hosted())).toBe(true);
    expect(r.owns({ ...hosted(), spec: { controlPlane: { mode: 'kubeadm' } } })).toBe(false);
  });

  it('makes the whole control plane in order and reports it Running at its endpoint', async () => {
    const seed = new MemorySeed();
    const { ctx, reports } = context();
    const out = await reconciler(seed).reconcile(hosted(), ctx);
    expect(seed.namespaces.get('cluster-p-web')).toEqual({ labels: OURS, phase: 'Active' });
    expect(out.status?.phase).toBe('Running');
    expect(out.status?.endpoint).toBe('https://192.0.2.7:30443');
    expect(conditionsOf([out.status ?? {}])).toEqual({
      SeedReachable: ['True', 'Answered'], ReleaseReady: ['True', 'Found'], NamespaceReady: ['True', 'Applied'], PKIReady: ['True', 'Signed'],
      EtcdReady: ['True', 'Ready'], APIServerReady: ['True', 'Ready'], ControllerManagerReady: ['True', 'Ready'], SchedulerReady: ['True', 'Ready'],
    });
    // Gardener's order: the endpoint before the certificates that name it, etcd before the apiserver before its controllers.
    const at = (what: string) => seed.applied.indexOf(what);
    expect(at('Service/kube-apiserver')).toBeLessThan(at('Secret/kube-apiserver-certs'));
    expect(at('Secret/etcd-certs')).toBeLessThan(at('StatefulSet/etcd'));
    expect(at('StatefulSet/etcd')).toBeLessThan(at('Deployment/kube-apiserver'));
    expect(at('Deployment/kube-apiserver')).toBeLessThan(at('Deployment/kube-controller-manager'));
    expect(at('Deployment/kube-apiserver')).toBeLessThan(at('Deployment/kube-scheduler'));
    expect(messageOf([out.status ?? {}], 'EtcdReady')).toContain('data on emptyDir: the seed has no default StorageClass');
    expect(out.status?.phase && reports.some((r) => r.phase === 'Creating')).toBe(true);
    // The watch finds drift; the periodic run is the safety net (and the renewal, a year away here).
    expect(out.requeueAfterMs).toBe(300_000);
    // The leaf certificates name the endpoint; no admin credential is left on the seed.
    expect(seed.secret('kube-apiserver-certs')?.['apiserver.crt']).toBeTruthy();
    expect([...seed.objects.values()].filter((o) => o.kind === 'Secret').map((o) => o.metadata?.name).sort()).toEqual(['etcd-certs', 'kube-apiserver-certs', 'kube-controller-manager-certs', 'kube-scheduler-certs']);
  });

  it('reports Updating for a spec change to a Running cluster, and Running again once it is rolled', async () => {
    const seed = new MemorySeed();
    const r = reconciler(seed);
    await r.reconcile(hosted(), context().ctx);
    const next = { ...hosted(), metadata: { ...hosted().metadata, generation: 4 } };
    const { ctx, reports } = context();
    const out = await r.reconcile(next, ctx);
    expect(reports.find((p) => p.phase)?.phase).toBe('Updating');
    expect(out.status).toMatchObject({ phase: 'Running', observedGeneration: 4 });
  });

  it('puts etcd on PersistentVolumeClaims when the seed has a default StorageClass, and says so', async () => {
    const seed = new MemorySeed();
    seed.defaultStorageClass = 'local-path';
    const out = await reconciler(seed).reconcile(hosted(), context().ctx);
    expect((seed.find('StatefulSet', 'etcd')?.spec as { volumeClaimTemplates?: unknown[] }).volumeClaimTemplates).toHaveLength(1);
    expect(messageOf([out.status ?? {}], 'EtcdReady')).toContain('data on PersistentVolumeClaims (StorageClass local-path)');
  });

  it('re-runs without signing anything again or rolling a pod, and stays Running', async () => {
    const seed = new MemorySeed();
    const r = reconciler(seed);
    await r.reconcile(hosted(), context().ctx);
    const before = seed.secret('kube-apiserver-certs');
    const gen = seed.find('Deployment', 'kube-apiserver')?.metadata?.generation;
    const { ctx, reports } = context();
    const out = await r.reconcile(hosted(), ctx);
    expect(seed.secret('kube-apiserver-certs')).toEqual(before);
    expect(seed.find('Deployment', 'kube-apiserver')?.metadata?.generation).toBe(gen);
    expect(conditionsOf([out.status ?? {}]).PKIReady).toEqual(['True', 'Current']);
    expect(reports.every((p) => p.phase === undefined || p.phase === 'Running')).toBe(true);
  });

  it('renews leaves past 2/3 of their life: the controllers roll, etcd and the apiserver refresh their files in place', async () => {
    const seed = new MemorySeed();
    const r = reconciler(seed, { leafLifetimeMs: 3_000 });
    const first = await r.reconcile(hosted(), context().ctx);
    expect(first.requeueAfterMs).toBeLessThanOrEqual(2_000);
    type Templated = { template: { metadata: { annotations: Record<string, string> } } };
    const hash = (kind: string, name: string) => (seed.find(kind, name)?.spec as Templated).template.metadata.annotations['outpost.dev/certs-hash'];
    const template = (kind: string, name: string) => JSON.stringify((seed.find(kind, name)?.spec as Templated).template);
    const refreshed = (pod: string) => seed.find('Pod', pod)?.metadata?.annotations?.['outpost.dev/certs-content'];
    const was = { scheduler: hash('Deployment', 'kube-scheduler'), apiserver: template('Deployment', 'kube-apiserver'), etcd: template('StatefulSet', 'etcd') };
    const pods = { etcd: refreshed('etcd-0'), apiserver: refreshed('kube-apiserver-0') };
    expect(pods.etcd).toMatch(/^[0-9a-f]{16}$/);
    expect(pods.apiserver).toMatch(/^[0-9a-f]{16}$/);
    const cert = seed.secret('kube-apiserver-certs')?.['apiserver.crt'];
    const etcdCert = seed.secret('etcd-certs')?.['server.crt'];
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await r.reconcile(hosted(), context().ctx);
    expect(seed.secret('kube-apiserver-certs')?.['apiserver.crt']).not.toBe(cert);
    expect(seed.secret('etcd-certs')?.['server.crt']).not.toBe(etcdCert);
    // The scheduler's kubeconfig holds its certificate inline: it rolls.
    expect(hash('Deployment', 'kube-scheduler')).not.toBe(was.scheduler);
    const strategy = (seed.find('Deployment', 'kube-scheduler')?.spec as { strategy: unknown }).strategy;
    expect(strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    // etcd and the apiserver reload their leaves: templates untouched, their pods asked to refresh their files.
    expect(template('Deployment', 'kube-apiserver')).toBe(was.apiserver);
    expect(template('StatefulSet', 'etcd')).toBe(was.etcd);
    expect(refreshed('etcd-0')).toMatch(/^[0-9a-f]{16}$/);
    expect(refreshed('etcd-0')).not.toBe(pods.etcd);
    expect(refreshed('kube-apiserver-0')).not.toBe(pods.apiserver);
  });

  it('resumes a flow killed after its pki step without signing the certificates again', async () => {
    const seed = new MemorySeed();
    const journal = new MemoryFlowJournal();
    await reconciler(seed).reconcile(hosted(), context({ journal }).ctx);
    const signed = seed.secret('etcd-certs');
    // What a kill -9 right after the pki step leaves in the agent's journal.
    for (const step of ['namespace', 'services', 'pki']) journal.stepDone('Cluster/p/web/hosted-control-plane', '3', step);
    const applied = seed.applied.length;
    const out = await reconciler(seed).reconcile(hosted(), context({ journal }).ctx);
    expect(out.status?.phase).toBe('Running');
    expect(seed.applied.slice(applied)[0]).toBe('PodDisruptionBudget/etcd');
    expect(seed.secret('etcd-certs')).toEqual(signed);
  });

  it('starts over after a failed run, so what an earlier step made and lost meanwhile is made again', async () => {
    const seed = new MemorySeed();
    const journal = new MemoryFlowJournal();
    seed.missingImages.add(IMAGES.etcd);
    await expect(reconciler(seed).reconcile(hosted(), context({ journal }).ctx)).rejects.toThrow(FlowFailedError);
    expect(journal.load('Cluster/p/web/hosted-control-plane')).toBeUndefined();
    seed.namespaces.delete('cluster-p-web');
    await expect(reconciler(seed).reconcile(hosted(), context({ journal }).ctx)).rejects.toThrow(FlowFailedError);
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Active');
  });

  it('names a missing image, the node and what to do, as the component condition', async () => {
    const seed = new MemorySeed();
    seed.missingImages.add(IMAGES['kube-apiserver']);
    const { ctx, reports } = context();
    await expect(reconciler(seed).reconcile(hosted(), ctx)).rejects.toThrow(FlowFailedError);
    expect(conditionsOf(reports)).toMatchObject({ EtcdReady: ['True', 'Ready'], APIServerReady: ['False', 'ImageMissing'] });
    const message = messageOf(reports, 'APIServerReady');
    expect(message).toContain('outpost.local/kube-apiserver:v1.34.4 is not on node node-1');
    expect(message).toContain('ErrImageNeverPull');
    expect(message).toContain("point Release 1.34.4's spec.components.kube-apiserver at an image the seed can get");
    expect(reports.at(-1)?.phase).toBe('Creating');
    expect(reports.filter((r) => r.lastErrors).at(-1)?.lastErrors?.[0]).toMatchObject({ step: 'kube-apiserver' });
  });

  it('says which Release or component is missing, and makes nothing', async () => {
    for (const [releases, wanted] of [
      [[], 'no Release for version 1.34.4'],
      [[release({ etcd: IMAGES.etcd, 'kube-apiserver': IMAGES['kube-apiserver'] })], 'names no image for kube-controller-manager, kube-scheduler'],
    ] as const) {
      const seed = new MemorySeed();
      const { ctx, reports } = context({ releases: [...releases] });
      await expect(reconciler(seed).reconcile(hosted(), ctx)).rejects.toThrow(wanted);
      expect(conditionsOf(reports)).toEqual({ ReleaseReady: ['False', 'ReleaseMissing'] });
      expect(messageOf(reports, 'ReleaseReady')).toContain(wanted);
      expect(seed.applied).toEqual([]);
    }
  });

  it('says the hub has not delivered the CAs yet, after making the namespace, and signs nothing', async () => {
    const seed = new MemorySeed();
    const { ctx, reports } = context({ withKeys: false });
    // Not a failure to back off from: it looks again soon, at a steady pace.
    expect(await reconciler(seed, { keysRetryMs: 1234 }).reconcile(hosted(), ctx)).toEqual({ requeueAfterMs: 1234 });
    expect(conditionsOf(reports)).toMatchObject({ NamespaceReady: ['True', 'Applied'], PKIReady: ['False', 'CAsNotDelivered'] });
    expect(messageOf(reports, 'PKIReady')).toContain('the hub has not delivered the CAs of cluster p/web to this agent yet');
    expect(seed.find('Secret', 'etcd-certs')).toBeUndefined();
    // While it waits, each run starts over: a namespace deleted meanwhile is put back.
    seed.namespaces.delete('cluster-p-web');
    await reconciler(seed).reconcile(hosted(), context({ withKeys: false, journal: ctx.journal }).ctx);
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Active');
  });

  it('puts back a hand-edited Deployment and says so', async () => {
    const seed = new MemorySeed();
    const r = reconciler(seed);
    await r.reconcile(hosted(), context().ctx);
    const d = seed.find('Deployment', 'kube-scheduler')!;
    (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = 'evil:1';
    d.metadata!.managedFields = [{ manager: 'kubectl-set', operation: 'Update', fieldsV1: { 'f:spec': {} } }];
    const out = await r.reconcile(hosted(), context().ctx);
    expect((seed.find('Deployment', 'kube-scheduler')?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image).toBe(IMAGES['kube-scheduler']);
    expect(conditionsOf([out.status ?? {}]).SchedulerReady).toEqual(['True', 'Healed']);
    expect(messageOf([out.status ?? {}], 'SchedulerReady')).toContain('changed on the seed by kubectl-set and is put back');
  });

  it('says in status what the watch saw put back, and forgets it once a run has put it back', async () => {
    const seed = new MemorySeed();
    const held: Drift[] = [{ component: 'etcd', note: 'Pod etcd-0 was deleted' }, { component: 'pki', note: 'Secret etcd-certs was changed by kubectl-edit' }];
    const settled: Drift[][] = [];
    const watch: DriftWatch = { start: async () => undefined, stop: async () => undefined, notes: (k) => (k.name === 'web' && k.namespace === 'p' ? [...held] : []), settle: (_k, n) => settled.push([...n]) };
    const out = await reconciler(seed, { watch }).reconcile(hosted(), context().ctx);
    const conditions = conditionsOf([out.status ?? {}]);
    expect(conditions.EtcdReady).toEqual(['True', 'Healed']);
    expect(messageOf([out.status ?? {}], 'EtcdReady')).toContain('put back after the watch saw: Pod etcd-0 was deleted');
    expect(conditions.PKIReady).toEqual(['True', 'Healed']);
    expect(conditions.SchedulerReady).toEqual(['True', 'Ready']);
    expect(settled).toEqual([held]);
    // A run that fails keeps the notes for the next one.
    seed.down = true;
    await reconciler(seed, { watch, stepTimeoutMs: 50 }).reconcile(hosted(), context().ctx).catch(() => undefined);
    expect(settled).toHaveLength(1);
  });

  it("refuses a namespace of that name that is another cluster's, and touches nothing", async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: { team: 'shop' }, phase: 'Active' });
    const { ctx, reports } = context();
    const err = await reconciler(seed).reconcile(hosted(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowFailedError);
    expect((err as Error).message).toContain(new NamespaceTakenError('cluster-p-web', { team: 'shop' }).message);
    expect(seed.namespaces.get('cluster-p-web')?.labels).toEqual({ team: 'shop' });
    expect(conditionsOf(reports)).toMatchObject({ SeedReachable: ['True', 'Answered'], NamespaceReady: ['False', 'NamespaceTaken'] });
    expect(seed.applied).toEqual([]);
  });

  it('waits for a Terminating namespace of an earlier cluster to go before it applies', async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: OURS, phase: 'Terminating' });
    seed.terminatingGets = 5;
    await expect(reconciler(seed).reconcile(hosted(), context().ctx)).rejects.toThrow('is still being deleted');
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Terminating');
  });

  it('says SeedReachable=False when the seed does not answer, and claims nothing of the namespace', async () => {
    const seed = new MemorySeed();
    seed.down = true;
    const { ctx, reports } = context();
    await expect(reconciler(seed).reconcile(hosted(), ctx)).rejects.toThrow('ECONNREFUSED');
    expect(conditionsOf(reports)).toEqual({ ReleaseReady: ['True', 'Found'], SeedReachable: ['False', 'Unreachable'] });
    expect(reports.at(-1)?.phase).toBe('Creating');
  });

  it('counts a seed that does not answer within the step timeout as unreachable', async () => {
    const seed = new MemorySeed();
    seed.wedged = true;
    const { ctx, reports } = context();
    await expect(reconciler(seed, { stepTimeoutMs: 20 }).reconcile(hosted(), ctx)).rejects.toThrow('timed out after 20 ms');
    expect(conditionsOf(reports)).toMatchObject({ SeedReachable: ['False', 'Unreachable'] });
    expect(reports.flatMap((r) => r.conditions ?? []).find((c) => c.type === 'SeedReachable')?.message).toContain('https://seed.test:6443');
  });

  it('finalizes by deleting the namespace and returning only once it is gone', async () => {
    const seed = new MemorySeed();
    await reconciler(seed).reconcile(hosted(), context().ctx);
    seed.terminatingGets = 3;
    const { ctx, reports } = context();
    await reconciler(seed, { deletePollMs: 1 }).finalize(hosted(), ctx);
    expect(seed.namespaces.has('cluster-p-web')).toBe(false);
    expect(seed.objects.size).toBe(0);
    expect(reports[0]?.phase).toBe('Deleting');
    expect(reports.at(-1)?.lastOperation).toMatchObject({ type: 'Delete', state: 'Succeeded' });
  });

  it("leaves alone a namespace of that name that is not this cluster's, and fails while the seed is down", async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: { team: 'shop' }, phase: 'Active' });
    const r = reconciler(seed, { deletePollMs: 1 });
    await r.finalize(hosted(), context().ctx);
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Active');
    seed.down = true;
    const { ctx, reports } = context();
    await expect(r.finalize(hosted(), ctx)).rejects.toThrow('ECONNREFUSED');
    expect(conditionsOf(reports)).toEqual({ SeedReachable: ['False', 'Unreachable'] });
  });
});
