// `npm run bench:site`: a kubeadm cluster of one control plane and two workers on the test world's bare
// kubeadm-capable hosts, made over SSH by a real site agent from a real hub, then one worker added.
// Writes test/bench/results/site.json:
//   readySeconds        from the Cluster's create answer to the hub's status showing phase Running with
//                       every node Ready (artifacts warm: the agent's cache is filled before the apply)
//   addWorkerSeconds    from the patch adding a fourth host to it Running with four nodes Ready
//   agentRssMaxBytes    the site agent's largest RSS, sampled every 200 ms over both
//   upgradeSeconds      null: a patch upgrade is not built yet
// Timed from the hub's side (its API answers); the bench only polls the hub and reads /proc.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKind, type Cluster, type Release } from '@outpost/proto';
import { datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, TestAgent, TestHub } from '../lib/processes.js';
import { VERSIONS } from '../world/binaries.js';
import { startKubeadmHosts } from '../world/kubeadm-hosts.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K = (n: string) => findKind(n)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const VERSION = VERSIONS.kubernetes.replace(/^v/, '');
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

const hub = await TestHub.start();
const env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
let world: Awaited<ReturnType<typeof startKubeadmHosts>> | undefined;
let agent: TestAgent | undefined;
try {
  await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
  const releaseDir = join(hub.dir, 'release');
  const written = spawnSync('npm', ['run', '--silent', 'world', '--', 'release', '--dir', releaseDir], { cwd: ROOT, encoding: 'utf8' });
  if (written.status !== 0) throw new Error(written.stderr);
  const imported = await run(OUTPOST, ['release', 'import', releaseDir], { env, timeoutMs: 300_000 });
  if (imported.code !== 0) throw new Error(imported.stderr);
  await hub.apply(project('demo'), site('shop-1'), datacenter('shops', { site: 'shop-1' }));
  agent = await TestAgent.join(hub, { site: 'shop-1' }, 'site');
  const key = await run(OUTPOST_AGENT, ['ssh-key', '--data', agent.dataDir]);
  world = await startKubeadmHosts({ count: 4, authorizedKeys: key.stdout });
  for (const h of world.hosts) {
    await hub.apply({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Host', metadata: { name: h.name }, spec: { site: 'shop-1', address: h.address, sshPort: h.port, sshUser: 'root', hostKey: h.hostKeyFingerprint } });
  }
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
  const release = await hub.api().get<Release>(K('releases'), VERSION);
  const digests = (release.spec?.artifacts ?? []).map((a) => a.digest ?? '');
  const fetched = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, '--log-level', 'warn', ...digests], { timeoutMs: 300_000 });
  if (fetched.code !== 0) throw new Error(`artifacts fetch: ${fetched.stderr}`);
  log(`cache warmed: ${digests.length} artifacts`);
  agent.start(['--log-level', 'warn'], AGENT_NODE_OPTIONS ? { env: { NODE_OPTIONS: AGENT_NODE_OPTIONS } } : {});
  let rssMax = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssMax = Math.max(rssMax, rssOf(agent?.proc?.child.pid));
      await sleep(200);
    }
  })();
  const [cp, w1, w2, w3] = world.hosts as [typeof world.hosts[0], typeof world.hosts[0], typeof world.hosts[0], typeof world.hosts[0]];
  const ready = async (nodes: number, deadlineMs: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      const c = await hub.api().get<Cluster>(K('clusters'), 'till', 'demo');
      if (c.status?.phase === 'Running' && c.status.observedGeneration === c.metadata.generation && c.status.nodes?.length === nodes && c.status.nodes.every((n) => n.state === 'Ready')) return (Date.now() - t0) / 1000;
      if (Date.now() - t0 > deadlineMs) throw new Error(`not Running with ${nodes} nodes Ready within ${deadlineMs / 1000} s: ${JSON.stringify(c.status?.lastErrors ?? [])}`);
      await sleep(250);
    }
  };
  await hub.apply({
    apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'till', namespace: 'demo' },
    spec: { version: VERSION, datacenter: 'shops', controlPlane: { mode: 'kubeadm', hosts: [cp.name] }, workers: [{ name: 'tills', hosts: [w1.name, w2.name] }], network: { cni: 'bridge' } },
  });
  const readySeconds = await ready(3, 600_000);
  log(`apply → 3 nodes Ready: ${readySeconds.toFixed(1)} s`);
  await hub.api().patch(K('clusters'), 'till', { spec: { workers: [{ name: 'tills', hosts: [w1.name, w2.name, w3.name] }] } }, 'demo');
  const addWorkerSeconds = await ready(4, 300_000);
  log(`one worker added: ${addWorkerSeconds.toFixed(1)} s`);
  sampling = false;
  await sampler;
  const result = {
    bench: 'site',
    command: 'npm run bench:site',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAverage: loadavg() },
    kubernetes: VERSIONS.kubernetes,
    nodes: { controlPlane: 1, workers: 2 },
    readySeconds: Number(readySeconds.toFixed(1)),
    addWorkerSeconds: Number(addWorkerSeconds.toFixed(1)),
    upgradeSeconds: null,
    agentRssMaxBytes: rssMax,
    goals: { readySeconds: 180, addWorkerSeconds: 60, agentRssMaxBytes: 80 * 1024 * 1024 },
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'site.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${join(RESULTS, 'site.json')}: ${JSON.stringify(result)}`);
} finally {
  try {
    await agent?.stop();
    await world?.stop();
  } finally {
    // even when the world's teardown fails (it says what it left), the hub is not left running
    await hub.stop();
  }
}
