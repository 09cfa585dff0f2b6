// `npm run bench:site`: a kubeadm cluster of one control plane and two workers on the test world's bare
// kubeadm-capable hosts, made over SSH by a real site agent from a real hub at the world's previous patch
// version, upgraded to the current one, then one worker added. Writes test/bench/results/site.json:
//   readySeconds        from the Cluster's create answer to the hub's status showing phase Running with
//                       every node Ready (artifacts warm: the agent's cache is filled before the apply)
//   upgradeSeconds      from the patch of spec.version (previous patch → current) to the hub's status
//                       showing phase Running with every node Ready at the new version
//   addWorkerSeconds    from the patch adding a fourth host to it Running with four nodes Ready
//   agentRssMaxBytes    the site agent's largest RSS, sampled every 200 ms over all three
// Timed from the hub's side (its API answers); the bench only polls the hub and reads /proc.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKind, type Cluster, type Release } from '@outpost/proto';
import { startKubeadmSite } from '../lib/kubeadm-site.js';
import { OUTPOST_AGENT, run } from '../lib/processes.js';
import { VERSIONS } from '../world/binaries.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const K = (n: string) => findKind(n)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const FROM = VERSIONS.kubernetesPrevious.replace(/^v/, '');
const TO = VERSIONS.kubernetes.replace(/^v/, '');
/**
 * Node flags for the measured site agent only (the hub and the CLI keep theirs), to look inside its memory:
 * OUTPOST_BENCH_AGENT_NODE_OPTIONS='--heapsnapshot-signal=SIGUSR2', or an --import of a sampler.
 */
const AGENT_NODE_OPTIONS = process.env.OUTPOST_BENCH_AGENT_NODE_OPTIONS ?? '';

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

const s = await startKubeadmSite({ hosts: 4, versions: [VERSIONS.kubernetesPrevious, VERSIONS.kubernetes] });
const { hub, agent, world } = s;
try {
  // Artifacts warm, as the figure is defined: the agent's cache holds the Release before the apply. It
  // runs once to pull its view (the Release in it), then fills its cache from the hub, then runs for good.
  agent.start(['--log-level', 'warn']);
  for (let i = 0; ; i++) {
    const a = await hub.api().list<{ status?: { ackedRevision?: number } }>(K('agents'));
    if ((a.items[0]?.status?.ackedRevision ?? 0) >= (await hub.api().version()).revision) break;
    if (i > 200) throw new Error('the site agent did not catch up with the hub');
    await sleep(100);
  }
  await agent.stop();
  const releases = await Promise.all([FROM, TO].map((v) => hub.api().get<Release>(K('releases'), v)));
  const digests = [...new Set(releases.flatMap((r) => (r.spec?.artifacts ?? []).map((a) => a.digest ?? '')))];
  const fetched = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, '--log-level', 'warn', ...digests], { timeoutMs: 300_000 });
  if (fetched.code !== 0) throw new Error(`artifacts fetch: ${fetched.stderr}`);
  log(`cache warmed: ${digests.length} artifacts`);
  agent.start(['--log-level', 'warn'], AGENT_NODE_OPTIONS ? { env: { NODE_OPTIONS: AGENT_NODE_OPTIONS } } : {});
  let rssMax = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssMax = Math.max(rssMax, rssOf(agent.proc?.child.pid));
      await sleep(200);
    }
  })();
  const [cp, w1, w2, w3] = world.hosts as [typeof world.hosts[0], typeof world.hosts[0], typeof world.hosts[0], typeof world.hosts[0]];
  const ready = async (nodes: number, version: string, deadlineMs: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      const c = await hub.api().get<Cluster>(K('clusters'), 'till', 'demo');
      if (c.status?.phase === 'Running' && c.status.observedGeneration === c.metadata.generation && c.status.nodes?.length === nodes && c.status.nodes.every((n) => n.state === 'Ready' && n.version === `v${version}`)) return (Date.now() - t0) / 1000;
      if (Date.now() - t0 > deadlineMs) throw new Error(`not Running with ${nodes} nodes Ready within ${deadlineMs / 1000} s: ${JSON.stringify(c.status?.lastErrors ?? [])}`);
      await sleep(250);
    }
  };
  await hub.apply({
    apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'till', namespace: 'demo' },
    spec: { version: FROM, datacenter: 'shops', controlPlane: { mode: 'kubeadm', hosts: [cp.name] }, workers: [{ name: 'tills', hosts: [w1.name, w2.name] }], network: { cni: 'bridge' } },
  });
  const readySeconds = await ready(3, FROM, 600_000);
  log(`apply → 3 nodes Ready: ${readySeconds.toFixed(1)} s`);
  await hub.api().patch(K('clusters'), 'till', { spec: { version: TO } }, 'demo');
  const upgradeSeconds = await ready(3, TO, 900_000);
  log(`patch upgrade ${FROM} → ${TO}: ${upgradeSeconds.toFixed(1)} s`);
  await hub.api().patch(K('clusters'), 'till', { spec: { workers: [{ name: 'tills', hosts: [w1.name, w2.name, w3.name] }] } }, 'demo');
  const addWorkerSeconds = await ready(4, TO, 300_000);
  log(`one worker added: ${addWorkerSeconds.toFixed(1)} s`);
  sampling = false;
  await sampler;
  const result = {
    bench: 'site',
    command: 'npm run bench:site',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverage: loadavg() },
    kubernetes: VERSIONS.kubernetes,
    upgradedFrom: VERSIONS.kubernetesPrevious,
    nodes: { controlPlane: 1, workers: 2 },
    readySeconds: Number(readySeconds.toFixed(1)),
    addWorkerSeconds: Number(addWorkerSeconds.toFixed(1)),
    upgradeSeconds: Number(upgradeSeconds.toFixed(1)),
    agentRssMaxBytes: rssMax,
    goals: { readySeconds: 180, addWorkerSeconds: 60, agentRssMaxBytes: 80 * 1024 * 1024 },
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'site.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${join(RESULTS, 'site.json')}: ${JSON.stringify(result)}`);
} finally {
  await s.stop();
}
