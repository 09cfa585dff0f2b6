// `npm run bench:artifact-fetch`: artifacts over the link on this machine, with real processes. Writes the
// test world's release directory, imports it into a hub (`outpost release import`), and has a site agent
// fetch its binaries (`outpost-agent artifacts fetch`: HTTPS, hash, sync, rename). Prints and writes
// test/bench/results/artifact-fetch.json:
//   bytes                 the release's blobs (each once)
//   importSeconds         `outpost release import` of it into an empty hub (hash, upload, Release)
//   fetchBytes / fetchSeconds / fetchMiBps  the agent's download of kubeadm, kubelet and kubectl
//   sha256sumMiBps        `sha256sum` of the same files, measured in the same run: the ceiling of any verified copy
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Release } from '@outpost/proto';
import { agentObjects, names } from '../lib/agent-state.js';
import { datacenter, site } from '../lib/fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { writeReleaseDir } from '../world/release-dir.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const MiB = 1024 * 1024;
const seconds = (t0: number): number => (performance.now() - t0) / 1000;

const hub = await TestHub.start({ serveArgs: ['--log-level', 'warn'] });
try {
  const env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
  const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
  if (login.code !== 0) throw new Error(login.stderr);
  const dir = join(hub.dir, 'release');
  const written = writeReleaseDir(dir);

  let t0 = performance.now();
  const imported = await run(OUTPOST, ['release', 'import', dir], { env, timeoutMs: 600_000 });
  if (imported.code !== 0) throw new Error(imported.stderr);
  const importSeconds = seconds(t0);

  await hub.apply(site('bench'), datacenter('dc-bench', { site: 'bench' }));
  const agent = (await TestAgent.join(hub, { site: 'bench' }, 'bench')).start(['--log-level', 'warn']);
  await waitFor('the Release at the agent', () => names(agentObjects(agent.dataDir)).includes(`Release/${written.version}`));
  await agent.stop();

  const release = await hub.api().get<Release>(hub.api().kind('releases'), written.version);
  const bytes = [...new Map((release.spec?.artifacts ?? []).map((a) => [a.digest, Number(a.size ?? 0)])).values()].reduce((n, s) => n + s, 0);
  const binaries = (release.spec?.artifacts ?? []).filter((a) => a.type === 'binary');
  const fetchBytes = binaries.reduce((n, a) => n + Number(a.size ?? 0), 0);
  t0 = performance.now();
  const fetched = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, ...binaries.map((a) => a.digest ?? '')], { timeoutMs: 600_000 });
  if (fetched.code !== 0) throw new Error(fetched.stderr);
  const fetchSeconds = seconds(t0);

  const files = binaries.map((a) => join(dir, 'bin', a.name ?? ''));
  t0 = performance.now();
  execFileSync('sha256sum', files);
  const sumSeconds = seconds(t0);
  for (const f of files) if (statSync(f).size === 0) throw new Error(`${f} is empty`);

  const figures = {
    date: new Date().toISOString(),
    release: written.version,
    bytes,
    importSeconds: Number(importSeconds.toFixed(2)),
    importMiBps: Number((bytes / MiB / importSeconds).toFixed(1)),
    fetchBytes,
    fetchSeconds: Number(fetchSeconds.toFixed(2)),
    fetchMiBps: Number((fetchBytes / MiB / fetchSeconds).toFixed(1)),
    sha256sumMiBps: Number((fetchBytes / MiB / sumSeconds).toFixed(1)),
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'artifact-fetch.json'), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await hub.stop();
  rmSync(hub.dir, { recursive: true, force: true });
}
