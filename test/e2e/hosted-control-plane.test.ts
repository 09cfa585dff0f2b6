// A hosted control plane on a real seed: a hub process, a seed agent process (with the service account
// deploy/seed-agent grants) and the test world's Kubernetes. A hosted Cluster of a Release of the world's
// images becomes etcd, kube-apiserver, kube-controller-manager and kube-scheduler pods in its namespace;
// the Cluster turns Running with its endpoint, and `kubectl get ns` works through `outpost kubeconfig`.
// A kill -9 of the agent mid-flow resumes without new CAs or certificates, a hand edit is put back, and
// deleting the Cluster leaves nothing on the seed. The CAs are the hub's, delivered to the agent.
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
  const startAgent = () => agent.start(['--heal-interval', '3'], { kubeconfig: seedKubeconfig });
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

  it('puts back a hand-edited Deployment, and says so in status', async () => {
    world.kubectl('set', 'image', '-n', NS, 'deployment/kube-scheduler', 'kube-scheduler=outpost.local/busybox:test');
    const healed = await waitFor('SchedulerReady Healed', async () => {
      const c = await getCluster();
      return condition(c, 'SchedulerReady')?.reason === 'Healed' && c;
    }, 60_000, 250);
    expect(condition(healed, 'SchedulerReady')?.message).toContain('and is put back');
    expect(world.kubectl('get', 'deployment', 'kube-scheduler', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe(IMAGES['kube-scheduler']);
  });

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
