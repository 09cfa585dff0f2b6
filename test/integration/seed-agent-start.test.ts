// A seed agent's start and its unreachable seed, with real hub and agent processes and no Kubernetes: a
// kubeconfig pointing at a closed loopback port gives SeedReachable=False, retried with backoff; a setup
// that cannot work fails at start with a message that says what to do.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, datacenter, project, release, seed, site } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { unreachableSeedKubeconfig } from '../lib/seed-kubeconfig.js';

const K = (n: string) => findKind(n)!;
/** A Release naming every control-plane image, so the flow goes as far as the seed (no image is pulled: it never answers). */
const RELEASE = {
  ...release('1.33.0'),
  spec: { version: '1.33.0', components: Object.fromEntries(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => [c, `outpost.local/${c}:v1.33.0`])) },
};

/** The agent's pino lines (JSON on stderr). */
const logLines = (agent: TestAgent) =>
  (agent.proc?.stderr ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; failures?: number; retryInMs?: number; object?: unknown });

describe('seed agent: start and an unreachable seed', () => {
  let hub: TestHub;
  let seedAgent: TestAgent;
  let siteAgent: TestAgent;
  const others: TestAgent[] = [];
  let scratch: string;

  beforeAll(async () => {
    hub = await TestHub.start({ heartbeatMs: 500 });
    scratch = mkdtempSync(join(tmpdir(), 'outpost-seed-start-'));
    await hub.apply(project('p'), RELEASE, seed('fra-1'), datacenter('dc-fra', { seed: 'fra-1' }), site('s1'), datacenter('dc-s1', { site: 's1' }), cluster('web', 'p', 'dc-fra', { mode: 'hosted' }));
    [seedAgent, siteAgent] = await Promise.all([TestAgent.join(hub, { seed: 'fra-1' }, 'seed'), TestAgent.join(hub, { site: 's1' }, 'site')]);
  });
  afterAll(async () => {
    await Promise.all([seedAgent, siteAgent, ...others].map((a) => a?.stop()));
    await hub?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reports SeedReachable=False naming the server, keeps the phase Creating, and retries with backoff', async () => {
    const { path, server } = await unreachableSeedKubeconfig(scratch);
    seedAgent.start(['--log-level', 'debug'], { kubeconfig: path });
    const c = await waitFor('SeedReachable=False', async () => {
      const got = await hub.api().get<Cluster>(K('clusters'), 'web', 'p');
      return got.status?.conditions?.some((x) => x.type === 'SeedReachable' && x.status === 'False') && got;
    });
    const reachable = c.status?.conditions?.find((x) => x.type === 'SeedReachable');
    expect(reachable).toMatchObject({ reason: 'Unreachable', observedGeneration: c.metadata.generation });
    expect(reachable?.message).toContain(`cannot reach the seed's Kubernetes API at ${server}`);
    expect(reachable?.message).toContain('ECONNREFUSED');
    expect(c.status?.phase).toBe('Creating');
    // Nothing was applied, so the namespace is not claimed ready.
    expect(c.status?.conditions?.some((x) => x.type === 'NamespaceReady')).toBe(false);
    expect(c.status?.lastOperation).toMatchObject({ type: 'Reconcile', state: 'Failed', step: 'namespace' });
    expect(c.status?.lastErrors?.[0]?.message).toContain('ECONNREFUSED');
    // The work queue retries, each time later than the last (1 s base, doubling, with jitter).
    const retries = await waitFor('two retries', () => {
      const r = logLines(seedAgent).filter((l) => l.msg === 'reconcile failed; will retry' && String(l.object).endsWith('/web'));
      return r.length >= 2 && r;
    }, 30_000, 100);
    expect(retries.map((r) => r.failures)).toEqual(expect.arrayContaining([1, 2]));
    expect(seedAgent.proc?.alive).toBe(true);
  });

  it('refuses --kubeconfig for a site agent, at start', async () => {
    const { path } = await unreachableSeedKubeconfig(scratch);
    siteAgent.start([], { kubeconfig: path });
    expect(await siteAgent.proc?.exited).toBe(2);
    expect(siteAgent.proc?.stderr).toContain("--kubeconfig is for a Seed's agent, and this agent serves site/s1");
    expect(siteAgent.proc?.stderr).toContain('Drop --kubeconfig');
  });

  it('refuses to start a seed agent with neither --kubeconfig nor an in-cluster config', async () => {
    const a = new TestAgent(hub, seedAgent.dataDir);
    others.push(a);
    const env: NodeJS.ProcessEnv = { KUBERNETES_SERVICE_HOST: '' };
    a.start([], { env });
    expect(await a.proc?.exited).toBe(2);
    expect(a.proc?.stderr).toContain('this agent serves seed/fra-1 and needs that seed\'s Kubernetes API: pass --kubeconfig FILE, or run it as a pod in the seed (deploy/seed-agent)');
  });

  it('says what is wrong with a kubeconfig that is missing or not one, or a pod without its token', async () => {
    const missing = new TestAgent(hub, seedAgent.dataDir).start([], { kubeconfig: join(scratch, 'nope') });
    const junk = join(scratch, 'junk');
    writeFileSync(junk, 'clusters: [[[');
    const bad = new TestAgent(hub, seedAgent.dataDir).start([], { kubeconfig: junk });
    // This test process is no pod: the service-account token is not there.
    const pod = new TestAgent(hub, seedAgent.dataDir).start([], { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' } });
    others.push(missing, bad, pod);
    expect(await Promise.all([missing, bad, pod].map((a) => a.proc?.exited))).toEqual([2, 2, 2]);
    expect(missing.proc?.stderr).toContain(`--kubeconfig ${join(scratch, 'nope')}: no such file`);
    expect(bad.proc?.stderr).toContain(`--kubeconfig ${junk} is not a kubeconfig`);
    expect(pod.proc?.stderr).toContain('running in a pod (KUBERNETES_SERVICE_HOST is set), but it has no service-account token');
  });
});
