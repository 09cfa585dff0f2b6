// A patch upgrade of a kubeadm site cluster, as an operator runs one: a cluster of one control plane and
// two workers made at the world's previous patch version, then spec.version set to the current one. The
// site agent upgrades the control plane first, then the workers one at a time (drained, upgraded,
// uncordoned), while a Deployment keeps serving; the agent is killed -9 during the worker phase and
// goes on from the host it stopped at, leaving the hosts it had upgraded alone.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeadmSite, type KubeadmSite } from '../lib/kubeadm-site.js';
import { waitFor } from '../lib/processes.js';
import { binary, VERSIONS } from '../world/binaries.js';
import type { KubeadmHost } from '../world/kubeadm-hosts.js';

const K = (n: string) => findKind(n)!;
const FROM = VERSIONS.kubernetesPrevious;
const TO = VERSIONS.kubernetes;

/** What the test saw at one moment: each node's kubelet version and cordon, the workload's available replicas. */
interface Sample {
  at: number;
  nodes: Record<string, { version: string; unschedulable: boolean }>;
  available: number;
}

describe('a patch upgrade of a kubeadm site cluster: the control plane, then each worker in turn', () => {
  let s: KubeadmSite;
  let kubeconfig: string;
  let cp: KubeadmHost, w1: KubeadmHost, w2: KubeadmHost;
  const cluster = () => s.hub.api().get<Cluster>(K('clusters'), 'pos', 'demo');
  const kubectl = (...args: string[]) => spawnSync(binary('kubectl'), ['--kubeconfig', kubeconfig, '--request-timeout', '10s', ...args], { encoding: 'utf8', timeout: 30_000 });
  const agentArgs = ['--log-level', 'info'];

  beforeAll(async () => {
    s = await startKubeadmSite({ hosts: 3, versions: [FROM, TO] });
    [cp, w1, w2] = s.world.hosts as [KubeadmHost, KubeadmHost, KubeadmHost];
    s.agent.start(agentArgs);
  }, 300_000);
  afterAll(async () => {
    // The Cluster deleted first: the agent resets every host, so no pod outlives the world's hosts.
    await s?.hub.api().delete(K('clusters'), 'pos', 'demo').catch(() => undefined);
    await waitFor('pos gone', async () => !(await cluster().catch(() => undefined)), 300_000, 1_000).catch((err: Error) => process.stderr.write(`${err.message}\n`));
    await s?.stop();
  }, 660_000);

  it(`makes the cluster at ${FROM}, with a Deployment on its workers`, async () => {
    await s.hub.apply({
      apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' },
      spec: { version: FROM.slice(1), datacenter: 'shops', controlPlane: { mode: 'kubeadm', hosts: [cp.name] }, workers: [{ name: 'tills', hosts: [w1.name, w2.name] }], network: { cni: 'bridge' } },
    });
    const running = await waitFor('pos Running', async () => {
      const c = await cluster();
      return c.status?.phase === 'Running' && c;
    }, 600_000, 1_000);
    expect(running.status?.nodes?.map((n) => `${n.host}=${n.state}@${n.version}`)).toEqual([cp, w1, w2].map((h) => `${h.name}=Ready@${FROM}`));
    const r = await s.outpost('kubeconfig', 'pos', '-n', 'demo', '--expiration', '2h');
    expect(r.code, r.stderr).toBe(0);
    kubeconfig = join(s.hub.dir, 'pos.kubeconfig');
    writeFileSync(kubeconfig, r.stdout);
    for (const w of [w1, w2]) await s.importBusybox(w);
    const labels = { app: 'till' };
    const manifest = join(s.hub.dir, 'till.json');
    writeFileSync(manifest, JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        {
          apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'till', namespace: 'default' },
          spec: {
            replicas: 2, selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'till', image: 'outpost.local/busybox:test', imagePullPolicy: 'Never', command: ['sh', '-c', 'echo till > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'] }] } },
          },
        },
        // The drain evicts through it: one till keeps serving while the other moves.
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'till', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
      ],
    }));
    const applied = kubectl('apply', '-f', manifest);
    expect(applied.status, applied.stderr).toBe(0);
    const rolled = kubectl('rollout', 'status', 'deployment/till', '--timeout=120s');
    expect(rolled.status, `${rolled.stderr}\n${kubectl('get', 'pods', '-o', 'wide').stdout}`).toBe(0);
  }, 720_000);

  it(`upgrades it to ${TO}: the control plane before any worker is drained, one worker at a time, through a kill -9 of the agent`, async () => {
    const samples: Sample[] = [];
    const statusVersions: string[] = [];
    const stepsAfterRestart = new Set<string>();
    let restarted = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const nodes = kubectl('get', 'nodes', '-o', 'json');
        const deploy = kubectl('get', 'deployment', 'till', '-o', 'jsonpath={.status.availableReplicas}');
        if (nodes.status === 0 && deploy.status === 0) {
          const items = (JSON.parse(nodes.stdout) as { items: Array<{ metadata: { name: string }; spec?: { unschedulable?: boolean }; status?: { nodeInfo?: { kubeletVersion?: string } } }> }).items;
          samples.push({ at: Date.now(), available: Number(deploy.stdout || 0), nodes: Object.fromEntries(items.map((n) => [n.metadata.name, { version: n.status?.nodeInfo?.kubeletVersion ?? '', unschedulable: n.spec?.unschedulable === true }])) });
        }
        const c = await cluster().catch(() => undefined);
        const seen = c?.status?.nodes?.map((n) => `${n.host}@${n.version}`).join(' ');
        if (seen && statusVersions.at(-1) !== seen) statusVersions.push(seen);
        if (restarted && c?.status?.lastOperation?.step) for (const step of c.status.lastOperation.step.split(/[ ,]+/)) stepsAfterRestart.add(step);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    // What an upgraded host's kubelet and kubelet config are: a host left alone keeps both.
    const kubeletOf = (h: KubeadmHost) => s.ssh(h, 'systemctl show -p MainPID --value kubelet; stat -c %Y /var/lib/kubelet/config.yaml');

    const t0 = Date.now();
    await s.hub.api().patch(K('clusters'), 'pos', { spec: { version: TO.slice(1) } }, 'demo');
    await waitFor('pos Updating', async () => (await cluster()).status?.phase === 'Updating', 60_000, 200);
    // The kill -9 comes once the first worker is done and the second one's step is under way.
    const op = await waitFor(`the upgrade of ${w2.name} under way`, async () => {
      const c = await cluster();
      for (const e of c.status?.lastErrors ?? []) process.stderr.write(`lastErrors: ${e.step}: ${e.message}\n`);
      return c.status?.lastOperation?.step?.includes(`upgrade-worker:${w2.name}`) && c.status.lastOperation;
    }, 900_000, 200);
    const upgradedBefore = await Promise.all([cp, w1].map(kubeletOf));
    await s.agent.stop('SIGKILL');
    process.stderr.write(`agent killed -9 at ${((Date.now() - t0) / 1000).toFixed(1)} s, during ${op.step}\n`);
    restarted = true;
    s.agent.start(agentArgs);
    const done = await waitFor(`every node Ready at ${TO}`, async () => {
      const c = await cluster();
      return c.status?.phase === 'Running' && c.status.observedGeneration === c.metadata.generation && c.status.nodes?.every((n) => n.state === 'Ready' && n.version === TO) && c;
    }, 900_000, 1_000);
    const seconds = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    process.stderr.write(`upgrade ${FROM} → ${TO} (through a kill -9) in ${seconds.toFixed(1)} s; status.nodes moved: ${statusVersions.join(' | ')}\n`);

    expect(done.status?.nodes?.map((n) => `${n.host}=${n.state}@${n.version}`)).toEqual([cp, w1, w2].map((h) => `${h.name}=Ready@${TO}`));
    // The control plane reached the new version before any worker was cordoned.
    const firstCordon = samples.findIndex((x) => x.nodes[w1.name]?.unschedulable || x.nodes[w2.name]?.unschedulable);
    expect(firstCordon, 'a worker was seen cordoned').toBeGreaterThan(0);
    expect(samples[firstCordon]!.nodes[cp.name]?.version).toBe(TO);
    expect(samples.slice(0, firstCordon).some((x) => x.nodes[w1.name]?.version === FROM && x.nodes[w2.name]?.version === FROM && x.nodes[cp.name]?.version === TO)).toBe(true);
    // One worker at a time: never both cordoned, and w2 still at the old version while w1 was.
    expect(samples.filter((x) => x.nodes[w1.name]?.unschedulable && x.nodes[w2.name]?.unschedulable)).toEqual([]);
    expect(samples.filter((x) => x.nodes[w1.name]?.unschedulable).every((x) => x.nodes[w2.name]?.version === FROM)).toBe(true);
    // status.nodes moved host by host: the control plane alone at the new version, then it and the first worker.
    expect(statusVersions).toContain(`${cp.name}@${TO} ${w1.name}@${FROM} ${w2.name}@${FROM}`);
    expect(statusVersions).toContain(`${cp.name}@${TO} ${w1.name}@${TO} ${w2.name}@${FROM}`);
    // The workload kept serving throughout, and runs both replicas at the end.
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.min(...samples.map((x) => x.available))).toBeGreaterThanOrEqual(1);
    expect(kubectl('get', 'deployment', 'till', '-o', 'jsonpath={.status.availableReplicas}').stdout).toBe('2');
    // Resumed at the host it stopped at: the upgraded hosts were not touched again, their steps not re-run.
    expect(await Promise.all([cp, w1].map(kubeletOf))).toEqual(upgradedBefore);
    expect([...stepsAfterRestart].filter((x) => x.startsWith('upgrade-') && !x.endsWith(`:${w2.name}`))).toEqual([]);
    // Every node schedulable again, none left marked.
    const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.unschedulable}/{.metadata.annotations.outpost\\.dev/drained-for-upgrade}{"\\n"}{end}');
    expect(nodes.stdout.trim().split('\n').sort()).toEqual([cp, w1, w2].map((h) => `${h.name}=/`).sort());
  }, 1_800_000);
});
