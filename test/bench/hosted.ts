// `npm run bench:hosted -- --clusters N`: N hosted control planes on the test world's seed, made by a real
// seed agent from a real hub. Writes test/bench/results/hosted-N.json:
//   clusters                  how many were applied at once
//   readySecondsP50 / Max     from the apply's answer to the hub's watch showing phase Running, per cluster
//   running                   how many reached Running within the deadline
//   pssBytesPerControlPlane   the PSS of every process of one cluster's pods (etcd, kube-apiserver, controller-
//                             manager, scheduler, pause), mean over the clusters (…Max: the largest)
//   seedMemoryBytes           PSS of the whole seed with the control planes running (control plane, node, pods)
//   seedBaseMemoryBytes       the same before any hosted cluster existed, so the difference is theirs
//   agentPssBytes             the seed agent's own PSS
//
// What is timed is the system: the bench only waits on one watch of the hub and reads /proc, so its own
// clock runs free (its CPU time is recorded beside the figures to show it).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findKind, type Cluster } from '@outpost/proto';
import { cluster, datacenter, project, seed } from '../lib/fixtures.js';
import { TestAgent, TestHub } from '../lib/processes.js';
import { VERSIONS } from '../world/binaries.js';
import { cgroupPids } from '../world/cgroups.js';
import { worldReleases } from '../world/releases.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';
import { loadState, worldPids } from '../world/world-state.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const { values: args } = parseArgs({ options: { clusters: { type: 'string', default: '1' }, 'deadline-seconds': { type: 'string', default: '900' } } });
const N = Number(args.clusters);
const DEADLINE_MS = Number(args['deadline-seconds']) * 1000;
if (!Number.isInteger(N) || N < 1 || N > 50) throw new Error(`--clusters must be a whole number from 1 to 50, not "${args.clusters}"`);

/** Sum of PSS over `pids`, from /proc/PID/smaps_rollup (a process gone meanwhile counts nothing). */
function pssOf(pids: Iterable<number>): number {
  let pss = 0;
  for (const pid of pids) {
    try {
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return pss;
}

interface PodJson {
  metadata: { uid: string };
  status?: { qosClass?: string; containerStatuses?: Array<{ name: string; containerID?: string }> };
}

/**
 * The PSS of the pods in `namespace`, by container name (the pods' sandboxes as "pause"): kubelet (cgroupfs
 * driver) puts each pod under its cgroup root by UID, and each container under the pod by its ID.
 */
function podPss(world: SeedCluster, namespace: string): Record<string, number> {
  const pods = JSON.parse(world.kubectl('get', 'pods', '-n', namespace, '-o', 'json')) as { items: PodJson[] };
  const out: Record<string, number> = {};
  for (const pod of pods.items) {
    const qos = pod.status?.qosClass;
    // Guaranteed pods sit right under kubepods; the others under their class.
    const parent = qos === 'Guaranteed' ? 'kubepods' : `kubepods/${(qos ?? 'besteffort').toLowerCase()}`;
    const podCgroup = `${world.layout.cgroupRoot}/${parent}/pod${pod.metadata.uid}`;
    const all = new Set(cgroupPids(podCgroup));
    for (const c of pod.status?.containerStatuses ?? []) {
      const id = c.containerID?.replace(/^[a-z]+:\/\//, '');
      if (!id) continue;
      const pids = cgroupPids(`${podCgroup}/${id}`);
      for (const p of pids) all.delete(p);
      out[c.name] = (out[c.name] ?? 0) + pssOf(pids);
    }
    out.pause = (out.pause ?? 0) + pssOf(all);
  }
  return out;
}

const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);

const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

const K = (n: string) => findKind(n)!;
log('starting the seed world and a hub');
const [world, hub] = await Promise.all([startSeedCluster({ log }), TestHub.start()]);
let agent: TestAgent | undefined;
let figures: Record<string, unknown>;
const cpu0 = process.cpuUsage();
try {
  await hub.apply(project('bench'), ...worldReleases(), seed('bench-seed'), datacenter('bench-dc', { seed: 'bench-seed' }));
  agent = await TestAgent.join(hub, { seed: 'bench-seed' }, 'seed');
  agent.start([], { kubeconfig: world.kubeconfigPath });
  await sleep(5_000);
  const seedBaseMemoryBytes = pssOf(worldPids(loadState(world.dir)));
  const version = worldReleases()[0]?.spec?.version ?? VERSIONS.kubernetes.replace(/^v/, '');

  // One watch of the hub, opened before the apply, sees each cluster turn Running.
  const runningAt = new Map<string, number>();
  const watching = new AbortController();
  const watch = hub.api().watch<Cluster>(K('clusters'), 'bench', { signal: watching.signal }, (e) => {
    const name = e.object.metadata?.name ?? '';
    if (e.object.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, Date.now());
  });
  const names = Array.from({ length: N }, (_, i) => `cp-${String(i + 1).padStart(2, '0')}`);
  log(`applying ${N} hosted cluster(s) at ${version}`);
  const appliedAt = new Map<string, number>();
  await Promise.all(
    names.map(async (name) => {
      await hub.apply(cluster(name, 'bench', 'bench-dc', { mode: 'hosted', version }));
      appliedAt.set(name, Date.now());
    }),
  );
  const t0 = Date.now();
  let lastLogged = -1;
  while (runningAt.size < N && Date.now() - t0 < DEADLINE_MS) {
    if (runningAt.size !== lastLogged) log(`${runningAt.size}/${N} Running after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    lastLogged = runningAt.size;
    await sleep(500);
  }
  watching.abort();
  await watch.catch(() => undefined);
  const readySeconds = names.filter((n) => runningAt.has(n)).map((n) => (runningAt.get(n)! - appliedAt.get(n)!) / 1000);
  const notRunning = await Promise.all(
    names.filter((n) => !runningAt.has(n)).map(async (n) => {
      const c = await hub.api().get<Cluster>(K('clusters'), n, 'bench');
      return { name: n, phase: c.status?.phase, lastOperation: c.status?.lastOperation, lastErrors: c.status?.lastErrors, conditions: c.status?.conditions?.filter((x) => x.status !== 'True') };
    }),
  );

  // Let start-up work settle (caches warm, leader elections done) before measuring what the seed holds at rest.
  await sleep(20_000);
  const byContainer = names.filter((n) => runningAt.has(n)).map((n) => podPss(world, `cluster-bench-${n}`));
  const perPlane = byContainer.map((c) => sum(Object.values(c)));
  // Where a control plane's memory goes: each container's PSS, mean over the clusters.
  const pssBytesByContainer: Record<string, number> = {};
  for (const c of byContainer) for (const [name, bytes] of Object.entries(c)) pssBytesByContainer[name] = (pssBytesByContainer[name] ?? 0) + bytes / byContainer.length;
  for (const k of Object.keys(pssBytesByContainer)) pssBytesByContainer[k] = Math.round(pssBytesByContainer[k]!);
  const agentPid = agent.proc?.child.pid;
  figures = {
    date: new Date().toISOString(),
    command: `npm run bench:hosted -- --clusters ${N}`,
    clusters: N,
    version,
    running: runningAt.size,
    readySecondsP50: percentile(readySeconds, 50),
    readySecondsMax: readySeconds.length ? Math.max(...readySeconds) : null,
    readySeconds,
    pssBytesPerControlPlane: perPlane.length ? Math.round(perPlane.reduce((a, b) => a + b, 0) / perPlane.length) : null,
    pssBytesPerControlPlaneMax: perPlane.length ? Math.max(...perPlane) : null,
    pssBytesByContainer,
    seedMemoryBytes: pssOf(worldPids(loadState(world.dir))),
    seedBaseMemoryBytes,
    agentPssBytes: agentPid ? pssOf([agentPid]) : null,
    // The machine's load while it ran (2 cores): above 2, everything here waited for a core.
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    benchCpuSeconds: (() => {
      const u = process.cpuUsage(cpu0);
      return (u.user + u.system) / 1e6;
    })(),
    goals: {
      firstRunningWithin60s: readySeconds.length > 0 && Math.min(...readySeconds) <= 60,
      allRunning: runningAt.size === N,
      pssAtMost300MiB: perPlane.length > 0 && Math.max(...perPlane) <= 300 * 2 ** 20,
    },
    ...(notRunning.length ? { notRunning } : {}),
  };
} finally {
  await agent?.stop();
  await hub.stop();
  await world.stop();
}

mkdirSync(RESULTS, { recursive: true });
const out = join(RESULTS, `hosted-${N}.json`);
writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
const mib = (b: unknown) => (typeof b === 'number' ? `${(b / 2 ** 20).toFixed(0)} MiB` : 'n/a');
const sec = (s: unknown) => (typeof s === 'number' ? `${s.toFixed(1)} s` : 'n/a');
const rows: Array<[string, string]> = [
  ['control planes Running', `${String(figures.running)}/${N}`],
  ['apply → Running, p50 / max', `${sec(figures.readySecondsP50)} / ${sec(figures.readySecondsMax)}`],
  ['PSS per control plane (mean / max)', `${mib(figures.pssBytesPerControlPlane)} / ${mib(figures.pssBytesPerControlPlaneMax)}`],
  ['  of which', Object.entries(figures.pssBytesByContainer as Record<string, number>).map(([k, v]) => `${k} ${mib(v)}`).join(', ')],
  ['seed PSS, before → with them', `${mib(figures.seedBaseMemoryBytes)} → ${mib(figures.seedMemoryBytes)}`],
  ['seed agent PSS', mib(figures.agentPssBytes)],
];
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(40)} ${v}\n`);
process.stdout.write(`written to ${out}\n`);
if (figures.running !== N) process.exitCode = 1;
