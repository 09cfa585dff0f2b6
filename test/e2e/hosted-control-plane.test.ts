// A hosted control plane on a real seed: a hub process, a seed agent process (with the service account
// deploy/seed-agent grants) and the test world's Kubernetes. A hosted Cluster of a Release of the world's
// images becomes etcd, kube-apiserver, kube-controller-manager and kube-scheduler pods in its namespace;
// the Cluster turns Running with its endpoint, and `kubectl get ns` works through `outpost kubeconfig`.
// A kill -9 of the agent mid-flow resumes without new CAs or certificates; a hand edit is put back and a
// deleted etcd or apiserver pod is seen back within seconds, by the agent's watch (its periodic heal is
// an hour away); deleting the Cluster leaves nothing on the seed. The CAs are the hub's, delivered to the agent.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pkiRow } from '../lib/cluster-pki.js';
import { cluster, datacenter, project, seed } from '../lib/fixtures.js';
import { OUTPOST, run, TestAgent, TestHub, waitFor, type RunResult } from '../lib/processes.js';
import { binary } from '../world/binaries.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MANIFESTS = join(ROOT, 'deploy/seed-agent');
const K = (n: string) => findKind(n)!;
const NS = 'cluster-p-c1';
const IMAGES = { etcd: 'outpost.local/etcd:v3.6.16', 'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4', 'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.34.4', 'kube-scheduler': 'outpost.local/kube-scheduler:v1.34.4' };
const release = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: '1.34.4' }, spec: { version: '1.34.4', components: IMAGES } };

describe('a hosted control plane on a real seed', () => {
  let world: SeedCluster;
  let hub: TestHub;
  let agent: TestAgent;
  let seedKubeconfig: string;
  let env: NodeJS.ProcessEnv;

  const getCluster = (name = 'c1') => hub.api().get<Cluster>(K('clusters'), name, 'p');
  const condition = (c: Cluster, type: string) => c.status?.conditions?.find((x) => x.type === type);
  // An hour: whatever is put back within the test's bounds was found by the watch, not by the periodic run.
  const startAgent = () => agent.start(['--heal-interval', '3600'], { kubeconfig: seedKubeconfig });
  const kubectl = (kubeconfig: string, ...args: string[]): Promise<RunResult> =>
    new Promise((done) => {
      execFile(binary('kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(hub.dir, 'kube-cache'), ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }));
    });

  beforeAll(async () => {
    [world, hub] = await Promise.all([startSeedCluster(), TestHub.start({ heartbeatMs: 500 })]);
    world.kubectl('apply', '-f', join(MANIFESTS, '00-namespace.yaml'), '-f', join(MANIFESTS, '10-rbac.yaml'));
    const token = world.kubectl('create', 'token', 'outpost-agent', '-n', 'outpost-system', '--duration=1h').trim();
    seedKubeconfig = join(hub.dir, 'seed-agent.kubeconfig');
    writeFileSync(seedKubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: seed, cluster: {server: '${world.apiServerUrl}', certificate-authority: '${join(world.dir, 'pki', 'ca.crt')}'}}]
users: [{name: outpost-agent, user: {token: '${token}'}}]
contexts: [{name: seed, context: {cluster: seed, user: outpost-agent}}]
current-context: seed
`);
    await hub.apply(project('p'), release, seed('fra-1'), datacenter('dc-fra', { seed: 'fra-1' }));
    agent = await TestAgent.join(hub, { seed: 'fra-1' }, 'seed');
    startAgent();
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
    expect(login.code, login.stderr).toBe(0);
  }, 120_000);
  // What a failure needs to be understood: the Cluster's status, the agent's log, the seed's view.
  afterEach(async (t) => {
    if (t.task.result?.state !== 'fail') return;
    process.stderr.write(`status: ${JSON.stringify((await getCluster().catch(() => undefined))?.status, null, 1)}\nagent log (tail):\n${agent.proc?.stderr.slice(-6000)}\nseed:\n${world.kubectl('get', 'all,secrets,events', '-n', NS, '--ignore-not-found')}\n`);
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await world?.stop();
  });

  it('resumes after kill -9 mid-flow, turns Running, and answers kubectl through outpost kubeconfig', async () => {
    await hub.apply(cluster('c1', 'p', 'dc-fra', { mode: 'hosted', version: '1.34.4' }));

    // Once the certificates are signed and etcd is on its way, the agent dies without a word.
    await waitFor('the flow past its pki step', async () => (await getCluster()).status?.lastOperation?.step?.includes('etcd') || (await getCluster()).status?.lastOperation?.step?.includes('kube-apiserver'), 120_000, 200);
    await agent.stop('SIGKILL');
    const certsBefore = world.kubectl('get', 'secret', 'kube-apiserver-certs', '-n', NS, '-o', 'jsonpath={.data.apiserver\\.crt}');
    startAgent();

    const running = await waitFor('phase Running', async () => {
      const c = await getCluster();
      return c.status?.phase === 'Running' && c;
    }, 150_000, 500);
    for (const type of ['SeedReachable', 'NamespaceReady', 'EtcdReady', 'APIServerReady', 'ControllerManagerReady', 'SchedulerReady']) expect(`${type}=${condition(running, type)?.status}`).toBe(`${type}=True`);
    expect(condition(running, 'EtcdReady')?.message).toMatch(/data on (emptyDir|PersistentVolumeClaims)/);
    expect(running.status?.endpoint).toMatch(/^https:\/\/10\.214\.\d+\.2:\d+$/);
    expect(running.status?.lastOperation).toMatchObject({ type: 'Reconcile', state: 'Succeeded', progress: 100 });
    // The resumed run kept what the killed one signed, and the hub's CAs are the ones it made with the Cluster.
    expect(world.kubectl('get', 'secret', 'kube-apiserver-certs', '-n', NS, '-o', 'jsonpath={.data.apiserver\\.crt}')).toBe(certsBefore);
    const caCert = pkiRow(hub.dataDir, 'p', 'c1')!.ca_cert;
    expect(world.kubectl('get', 'secret', 'kube-apiserver-certs', '-n', NS, '-o', 'jsonpath={.data.ca\\.crt}')).toBe(Buffer.from(caCert).toString('base64'));
    // The leaf the killed run signed is the hub CA's.
    expect(new X509Certificate(Buffer.from(certsBefore, 'base64')).checkIssued(new X509Certificate(caCert))).toBe(true);

    const kc = join(hub.dir, 'c1.kubeconfig');
    const written = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p', '--expiration', '15m', '-o', kc], { env });
    expect(written.code, written.stderr).toBe(0);
    const ns = await kubectl(kc, 'get', 'ns', '-o', 'name');
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toContain('namespace/kube-system');
    expect(ns.stdout).toContain('namespace/default');
    // The controller-manager works for the hosted cluster: it made the default ServiceAccount.
    await waitFor('the default ServiceAccount', async () => (await kubectl(kc, 'get', 'serviceaccount', 'default', '-o', 'name')).stdout.trim() === 'serviceaccount/default', 60_000, 500);
  });

  it('puts back a hand-edited Deployment within seconds, and says so in status', async () => {
    const imageOf = () => world.kubectl('get', 'deployment', 'kube-scheduler', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    const editedAt = Date.now();
    world.kubectl('set', 'image', '-n', NS, 'deployment/kube-scheduler', 'kube-scheduler=outpost.local/busybox:test');
    await waitFor('the image put back', () => imageOf() === IMAGES['kube-scheduler'], 15_000, 100);
    const putBackMs = Date.now() - editedAt;
    const healed = await waitFor('SchedulerReady Healed', async () => {
      const c = await getCluster();
      return condition(c, 'SchedulerReady')?.reason === 'Healed' && c;
    }, 15_000, 250);
    process.stderr.write(`hand edit put back after ${putBackMs} ms, Healed in status after ${Date.now() - editedAt} ms\n`);
    expect(Date.now() - editedAt).toBeLessThan(15_000);
    expect(condition(healed, 'SchedulerReady')?.message).toContain('changed on the seed by kubectl-set and is put back');
    expect(condition(healed, 'SchedulerReady')?.message).toContain('Deployment kube-scheduler was changed by kubectl-set');
    expect(imageOf()).toBe(IMAGES['kube-scheduler']);
  });

  for (const [component, type] of [['etcd', 'EtcdReady'], ['kube-apiserver', 'APIServerReady']] as const) {
    it(`sees a deleted ${component} pod back, says so in status, and the API answers`, async () => {
      const selector = `outpost.dev/component=${component}`;
      const pods = () => JSON.parse(world.kubectl('get', 'pods', '-n', NS, '-l', selector, '-o', 'json')) as { items: { metadata: { name: string; uid: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[] };
      const before = pods().items;
      expect(before).toHaveLength(1);
      const deletedAt = Date.now();
      world.kubectl('delete', 'pod', '-n', NS, before[0]!.metadata.name, '--wait=false');
      const healed = await waitFor(`${type} Healed`, async () => {
        const c = await getCluster();
        return condition(c, type)?.reason === 'Healed' && condition(c, type)?.status === 'True' && c;
      }, 90_000, 250);
      process.stderr.write(`deleted ${component} pod: ${type} Healed after ${Date.now() - deletedAt} ms\n`);
      expect(condition(healed, type)?.message).toContain(`Pod ${before[0]!.metadata.name} was deleted`);
      // Healed is said only once the deleted pod is gone and a new one is ready.
      const now = pods().items.filter((p) => !p.metadata.deletionTimestamp);
      expect(now.map((p) => p.metadata.uid)).not.toContain(before[0]!.metadata.uid);
      expect(now.some((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
      const kc = join(hub.dir, 'c1.kubeconfig');
      await waitFor('the API answering', async () => (await kubectl(kc, 'get', 'ns', 'default', '-o', 'name')).stdout.trim() === 'namespace/default', 60_000, 500);
    }, 150_000);
  }

  it('deletes everything it made on the seed when the Cluster is deleted', async () => {
    await hub.api().delete(K('clusters'), 'c1', 'p');
    await waitFor('the Cluster gone from the hub', async () => {
      try {
        await getCluster();
        return false;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return true;
        throw err;
      }
    }, 120_000, 250);
    expect(world.kubectl('get', 'namespace', NS, '--ignore-not-found', '-o', 'name').trim()).toBe('');
    // etcd's volumes (when the seed has a default StorageClass) go with their claims.
    await waitFor('no PersistentVolume of the cluster left', () => world.kubectl('get', 'pv', '-o', 'jsonpath={.items[*].spec.claimRef.namespace}').split(' ').every((n) => n !== NS), 60_000, 500);
  });
});
