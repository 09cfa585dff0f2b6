// `npm run bench:world`: the test world's figures on this machine. Prints a table and writes
// test/bench/results/world.json:
//   buildSeconds       cold build of every binary and image, as build-k8s.sh timed it when it filled the cache
//   startToRunningSeconds  startSeedCluster() from nothing to a `kubectl run` Pod in phase Running (binaries warm)
//   seedRssBytes / seedPssBytes  memory of every process of the running seed (control plane, node, shims, pods)
//   teardownSeconds    stop(): every process, mount, cgroup, namespace and link gone
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binDirs, imagesDir } from '../world/binaries.js';
import { startSeedCluster } from '../world/seed-cluster.js';
import { loadState, worldPids } from '../world/world-state.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recordedBuildSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, bin] of Object.entries({ ...binDirs(), images: join(imagesDir(), 'bin') })) {
    const file = join(bin, '..', 'build-seconds');
    if (existsSync(file)) out[name] = Number(readFileSync(file, 'utf8'));
  }
  return out;
}

function memoryOf(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { rss, pss };
}

const t0 = Date.now();
const seed = await startSeedCluster({ log: (l) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${l}\n`) });
let figures: Record<string, unknown>;
try {
  const readySeconds = (Date.now() - t0) / 1000;
  seed.kubectl('run', 'bench', '--image=outpost.local/busybox:test', '--image-pull-policy=Never', '--', 'sleep', '3600');
  while (seed.kubectl('get', 'pod', 'bench', '-o', 'jsonpath={.status.phase}') !== 'Running') {
    if (Date.now() - t0 > 300_000) throw new Error('the bench Pod did not reach Running within 300 s');
    await sleep(100);
  }
  const startToRunningSeconds = (Date.now() - t0) / 1000;
  // Let start-up work settle before measuring what the seed holds at rest.
  await sleep(15_000);
  const pids = worldPids(loadState(seed.dir));
  const mem = memoryOf(pids);
  const build = recordedBuildSeconds();
  figures = {
    date: new Date().toISOString(),
    buildSeconds: Object.values(build).reduce((a, b) => a + b, 0),
    buildSecondsByComponent: build,
    nodeReadySeconds: readySeconds,
    startToRunningSeconds,
    seedProcesses: pids.length,
    seedRssBytes: mem.rss,
    seedPssBytes: mem.pss,
  };
} catch (err) {
  await seed.stop();
  throw err;
}
const s0 = Date.now();
await seed.stop();
figures.teardownSeconds = (Date.now() - s0) / 1000;

mkdirSync(RESULTS, { recursive: true });
writeFileSync(join(RESULTS, 'world.json'), `${JSON.stringify(figures, null, 2)}\n`);
const mb = (b: unknown) => `${((b as number) / 2 ** 20).toFixed(0)} MiB`;
const rows: Array<[string, string]> = [
  ['cold build of all binaries and images (recorded)', `${(figures.buildSeconds as number).toFixed(0)} s  ${JSON.stringify(figures.buildSecondsByComponent)}`],
  ['start → node Ready', `${(figures.nodeReadySeconds as number).toFixed(1)} s`],
  ['start → Pod Running (warm binaries)', `${(figures.startToRunningSeconds as number).toFixed(1)} s`],
  ['memory of the running seed (PSS / RSS sum)', `${mb(figures.seedPssBytes)} / ${mb(figures.seedRssBytes)} in ${String(figures.seedProcesses)} processes`],
  ['teardown', `${(figures.teardownSeconds as number).toFixed(1)} s`],
];
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(50)} ${v}\n`);
process.stdout.write(`written to ${join(RESULTS, 'world.json')}\n`);
