// `npm run bench:bundle [-- --mib N]`: air-gapped bundle figures on this machine, with real processes.
// Writes test/bench/results/bundle.json:
//   full.bytes / createSeconds / importSeconds   an enrolling bundle of a site whose Release lists N MiB of
//                                                artifacts, made by `outpost bundle create`, imported by
//                                                `outpost-agent bundle import` into an empty directory
//   delta.*                                      the same after one spec change (`--since` the full bundle)
//   sha256sum.seconds                            `sha256sum` of the full bundle's file, in the same run
//                                                (each of the two: fastest of three runs, alternating)
//   importThroughputVsSha256sum                  (bytes / importSeconds) / (bytes / sha256sum seconds)
//   cliStartSeconds                              `outpost-agent --version`: the node start every import pays
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '@outpost/proto';
import { BLOB_COUNT, bundleProject, bundleSite, Clis, putBlobs, release } from '../lib/bundles.js';
import { TestHub } from '../lib/processes.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const mib = arg('mib', 256);
  const hub = await TestHub.start();
  try {
    const clis = await Clis.login(hub);
    const artifacts = putBlobs(hub.dataDir, Math.floor((mib << 20) / BLOB_COUNT));
    await hub.apply(bundleProject(), release('1.33.0', artifacts), ...bundleSite('bench'));
    const full = join(hub.dir, 'full.tar');
    const site = join(hub.dir, 'site');
    const [, createSeconds] = await timed(() => ok(clis.outpost('bundle', 'create', '--site', 'bench', '--enroll', '-o', full), 'bundle create'));
    const fullBytes = statSync(full).size;
    // Read once before timing anything that reads it, so every reader below meets the same warm page cache.
    execFileSync('sha256sum', [full]);
    // The machine is shared: each is measured three times, alternating, and the fastest run of each is kept.
    const sha256sumRuns: number[] = [];
    const importRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      sha256sumRuns.push((await timed(async () => execFileSync('sha256sum', [full])))[1]);
      const dir = i === 0 ? site : join(hub.dir, `site-${i}`);
      importRuns.push((await timed(() => ok(clis.agent('bundle', 'import', '--data', dir, '--ca-hash', hub.caHash, full), 'bundle import')))[1]);
    }
    const sha256sumSeconds = Math.min(...sha256sumRuns);
    const importSeconds = Math.min(...importRuns);
    const [, cliStartSeconds] = await timed(() => ok(clis.agent('--version'), 'outpost-agent --version'));

    const api = hub.api();
    const c = await api.get<Cluster>(api.kind('Cluster'), 'c-bench', 'p');
    await api.replace({ ...c, spec: { ...c.spec, controlPlane: { ...c.spec!.controlPlane, replicas: 3 } } } as never);
    const delta = join(hub.dir, 'delta.tar');
    const [, deltaCreateSeconds] = await timed(() => ok(clis.outpost('bundle', 'create', '--site', 'bench', '--since', full, '-o', delta), 'delta create'));
    const deltaBytes = statSync(delta).size;
    const [, deltaImportSeconds] = await timed(() => ok(clis.agent('bundle', 'import', '--data', site, delta), 'delta import'));

    const importThroughput = fullBytes / importSeconds;
    const sha256sumThroughput = fullBytes / sha256sumSeconds;
    const result = {
      date: new Date().toISOString(),
      machine: `${execFileSync('nproc').toString().trim()} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other work shares this machine)`,
      artifacts: `${BLOB_COUNT} random files of ${(mib / BLOB_COUNT).toFixed(1)} MiB, one per artifact a Release needs, put straight into the hub's content store (<data>/blobs/sha256/<hex>, as outpost release import writes it) and listed in the Release's spec.artifacts, so the bench's size does not depend on what the test world built`,
      full: { bytes: fullBytes, blobs: BLOB_COUNT, createSeconds, importSeconds, importBytesPerSecond: Math.round(importThroughput) },
      delta: { bytes: deltaBytes, fractionOfFull: deltaBytes / fullBytes, createSeconds: deltaCreateSeconds, importSeconds: deltaImportSeconds },
      sha256sum: { seconds: sha256sumSeconds, bytesPerSecond: Math.round(sha256sumThroughput), runs: sha256sumRuns },
      importRuns,
      importThroughputVsSha256sum: importThroughput / sha256sumThroughput,
      cliStartSeconds,
      goals: { importThroughputAtLeastHalfOfSha256sum: importThroughput >= sha256sumThroughput / 2, deltaImportUnderOneSecond: deltaImportSeconds < 1 },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'bundle.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await hub.stop();
  }
}

await main();
