// Air-gapped sync bundles with real processes: a hub, the `outpost` CLI that makes bundles, and
// `outpost-agent` that imports them into a site that never has a network path to the hub.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '@outpost/proto';
import { agentDbDump, agentOutbox, BLOB_COUNT, bundleProject, bundleSite, Clis, putBlobs, release } from '../lib/bundles.js';
import { agentLastStatus, agentRevision } from '../lib/agent-state.js';
import { OUTPOST_AGENT, TestAgent, TestHub, waitFor } from '../lib/processes.js';

function received(c: Cluster): { status: string; observedGeneration?: number | null } | undefined {
  return c.status?.conditions?.find((x) => x.type === 'Received') as never;
}

describe('air-gapped sync bundles', () => {
  let hub: TestHub;
  let clis: Clis;
  const site = 'ship';
  let siteDir: string;
  let full: string;
  let fullBytes: number;

  beforeAll(async () => {
    hub = await TestHub.start();
    clis = await Clis.login(hub);
    siteDir = join(hub.dir, 'site-ship');
    full = join(hub.dir, 'full.tar');
    // A 1 MiB blob for each artifact a Release needs (BLOB_COUNT), listed by the Release the site's Cluster runs.
    const artifacts = putBlobs(hub.dataDir, 1 << 20);
    await hub.apply(bundleProject(), release('1.33.0', artifacts), ...bundleSite(site), ...bundleSite('other'));
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** One spec change: the control plane's replicas between 1 and 3 (the only counts allowed). */
  async function changeSpec(name: string): Promise<void> {
    const api = hub.api();
    const c = await api.get<Cluster>(api.kind('Cluster'), name, 'p');
    const replicas = c.spec?.controlPlane?.replicas === 3 ? 1 : 3;
    await api.replace({ ...c, spec: { ...c.spec, controlPlane: { ...c.spec!.controlPlane, replicas } } } as never);
  }

  async function runOfflineUntil(dataDir: string, until: () => boolean): Promise<void> {
    const agent = new TestAgent(hub, dataDir).start(['--offline']);
    try {
      await waitFor('the offline agent to reconcile', until, 20_000);
      // It never dials: the hub saw no connection.
      expect(agent.proc!.stdout).toContain('running offline');
    } finally {
      await agent.stop();
    }
  }

  it('a site that never connects converges through bundles alone: enroll, import, reconcile offline, status back', async () => {
    const made = await clis.outpost('bundle', 'create', '--site', site, '--enroll', '-o', full);
    // A new agent's key is not known yet: its clusters' CAs come in a later bundle (bundle-cluster-keys.test.ts).
    expect(made.stderr).toMatch(/^note: this bundle carries no cluster CAs/);
    expect(made.stdout).toMatch(/full bundle for site ship .* 7 artifacts/);
    fullBytes = statSync(full).size;
    expect(fullBytes).toBeGreaterThan(3 << 20);

    // Without the CA pin an enrolling bundle is refused, and the directory stays empty.
    const unpinned = await clis.agent('bundle', 'import', '--data', siteDir, full);
    expect(unpinned.code).toBe(1);
    expect(unpinned.stderr).toMatch(/CA_MISMATCH.*--ca-hash/);
    const wrongPin = await clis.agent('bundle', 'import', '--data', siteDir, '--ca-hash', `sha256:${'0'.repeat(64)}`, full);
    expect(wrongPin.stderr).toMatch(/CA_MISMATCH.*not from your hub/);

    const imported = await clis.agent('bundle', 'import', '--data', siteDir, '--ca-hash', hub.caHash, full);
    expect(imported.stderr).toMatch(/^note: 1 of this site's clusters have no CAs here yet/);
    expect(imported.stdout).toMatch(/imported full bundle for site ship \(enrolled agent site-ship-bundle-[0-9a-f]+\): now at revision \d+, \d+ objects changed, 7 artifacts cached/);
    expect(readdirSync(join(siteDir, 'artifacts', 'sha256'))).toHaveLength(BLOB_COUNT);
    // The same bundle again is a no-op, and says so.
    const again = await clis.agent('bundle', 'import', '--data', siteDir, full);
    expect(again.stdout).toMatch(/was imported before; nothing to do/);

    await runOfflineUntil(siteDir, () => !!agentLastStatus(siteDir, 'Cluster', 'p', `c-${site}`));
    const statusFile = join(hub.dir, 'status-1.json');
    const exported = await clis.agent('bundle', 'export-status', '--data', siteDir, '-o', statusFile);
    expect(exported.stdout).toMatch(/wrote [1-9]\d* statuses/);
    const recorded = await clis.outpost('bundle', 'import-status', statusFile);
    expect(recorded.stderr).toBe('');
    expect(recorded.stdout).toMatch(/recorded [1-9]\d* statuses of agent site-ship-bundle/);
    const c = await hub.api().get<Cluster>(hub.api().kind('Cluster'), `c-${site}`, 'p');
    expect(received(c)).toMatchObject({ status: 'True', observedGeneration: 1 });
    const table = await clis.outpost('get', 'clusters', '-n', 'p');
    expect(table.stdout).toMatch(/c-ship .*Received=True/);

    // A replay is refused; so is a status bundle altered after the agent signed it.
    const replay = await clis.outpost('bundle', 'import-status', statusFile);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/replay; nothing was recorded/);
    const forged = JSON.parse(readFileSync(statusFile, 'utf8')) as { lastSeq: number };
    writeFileSync(join(hub.dir, 'forged.json'), JSON.stringify({ ...forged, lastSeq: forged.lastSeq + 100 }));
    const foreign = await clis.outpost('bundle', 'import-status', join(hub.dir, 'forged.json'));
    expect(foreign.stderr).toMatch(/not signed with that agent's credential/);
    // The outbox still holds them: the agent learns they were recorded only from its next bundle.
    expect(agentOutbox(siteDir).length).toBeGreaterThan(0);
  }, 90_000);

  it('a delta after one spec change carries no artifact, is under 1% of the first bundle, and clears the recorded outbox', async () => {
    await changeSpec(`c-${site}`);
    const delta = join(hub.dir, 'delta.tar');
    const made = await clis.outpost('bundle', 'create', '--site', site, '--since', full, '-o', delta);
    expect(made.stdout).toMatch(/delta from revision \d+ .* 0 artifacts/);
    const bytes = statSync(delta).size;
    expect(bytes).toBeLessThan(fullBytes / 100);
    const before = agentRevision(siteDir);
    const imported = await clis.agent('bundle', 'import', '--data', siteDir, delta);
    expect(imported.stdout).toMatch(/imported delta from revision/);
    expect(agentRevision(siteDir)).toBeGreaterThan(before);
    // The delta said which statuses the hub recorded: the outbox has let them go.
    expect(agentOutbox(siteDir)).toEqual([]);
  }, 60_000);

  it('refuses a flipped byte anywhere, leaving the agent database exactly as it was', async () => {
    await changeSpec(`c-${site}`);
    const file = join(hub.dir, 'flip.tar');
    // --since a revision: the hub's own record of what its earlier bundles for this agent carried keeps the artifacts out.
    const made = await clis.outpost('bundle', 'create', '--site', site, '--since', String(agentRevision(siteDir)), '-o', file);
    expect(made.stdout).toMatch(/delta from revision \d+ .* 0 artifacts/);
    const original = readFileSync(file);
    const before = agentDbDump(siteDir);
    // The manifest, its header, the changes, padding, the signature, the end-of-archive blocks.
    const positions = [3, 200, 520, 700, original.length - 1500, original.length - 1100, original.length - 700, original.length - 1, Math.floor(original.length / 2)];
    for (const at of positions) {
      const bad = Buffer.from(original);
      bad[at] = bad[at]! ^ 0x01;
      writeFileSync(file, bad);
      const r = await clis.agent('bundle', 'import', '--data', siteDir, file);
      expect(r.code, `byte ${at} of ${original.length}: ${r.stdout}`).toBe(1);
      expect(r.stderr).toMatch(/bundle refused \((TAMPERED|TRUNCATED|OLDER|GAP|FOREIGN|UNKNOWN_VERSION)\)/);
      expect(agentDbDump(siteDir)).toBe(before);
    }
    // A manifest of another format version is refused by its number.
    const versioned = Buffer.from(original);
    versioned[original.indexOf('"format":1') + '"format":'.length] = '7'.charCodeAt(0);
    writeFileSync(file, versioned);
    const unknown = await clis.agent('bundle', 'import', '--data', siteDir, file);
    expect(unknown.stderr).toMatch(/UNKNOWN_VERSION.*format version 7; this agent reads version 1/);
    expect(agentDbDump(siteDir)).toBe(before);
    // A truncated copy is named so.
    writeFileSync(file, original.subarray(0, original.length - 3000));
    const cut = await clis.agent('bundle', 'import', '--data', siteDir, file);
    expect(cut.stderr).toMatch(/TRUNCATED.*truncated/);
    expect(agentDbDump(siteDir)).toBe(before);
    // Whole, it imports.
    writeFileSync(file, original);
    expect((await clis.agent('bundle', 'import', '--data', siteDir, file)).code).toBe(0);
  }, 90_000);

  it('refuses a replayed older bundle and one for another site, naming which', async () => {
    const before = agentDbDump(siteDir);
    // A full bundle made before the last change: older than what the site holds.
    const older = await clis.agent('bundle', 'import', '--data', siteDir, join(hub.dir, 'delta.tar'));
    expect(older.stdout).toMatch(/imported before/);
    const stale = join(hub.dir, 'stale.tar');
    await clis.outpost('bundle', 'create', '--site', site, '--since', '1', '-o', stale);
    await changeSpec(`c-${site}`);
    await clis.outpost('bundle', 'create', '--site', site, '--since', String(agentRevision(siteDir)), '-o', join(hub.dir, 'newer.tar'));
    expect((await clis.agent('bundle', 'import', '--data', siteDir, join(hub.dir, 'newer.tar'))).code).toBe(0);
    const after = agentDbDump(siteDir);
    expect(after).not.toBe(before);
    const replayed = await clis.agent('bundle', 'import', '--data', siteDir, stale);
    expect(replayed.stderr).toMatch(/OLDER.*older than what the site has/);
    expect(agentDbDump(siteDir)).toBe(after);

    const other = join(hub.dir, 'other.tar');
    expect((await clis.outpost('bundle', 'create', '--site', 'other', '--enroll', '-o', other)).code).toBe(0);
    const foreign = await clis.agent('bundle', 'import', '--data', siteDir, other);
    expect(foreign.stderr).toMatch(/FOREIGN.*site other.*this agent serves site\/ship/);
    expect(agentDbDump(siteDir)).toBe(after);
  }, 90_000);

  it('refuses a bundle when the disk fills during import, applying nothing', async () => {
    // A full bundle again (since 0: its artifacts too), newer than what the site holds.
    const again = join(hub.dir, 'full-again.tar');
    await changeSpec(`c-${site}`);
    expect((await clis.outpost('bundle', 'create', '--site', site, '-o', again)).code).toBe(0);
    const before = agentDbDump(siteDir);
    const cached = readdirSync(join(siteDir, 'artifacts', 'sha256')).length;
    // The file size limit stands in for a full disk: with SIGXFSZ ignored, a write past it fails with EFBIG.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', `trap '' XFSZ; ulimit -f 1000; exec "$0" "$@"`, process.execPath, OUTPOST_AGENT, 'bundle', 'import', '--data', siteDir, again], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DISK.*the disk filled.*nothing was applied/);
    expect(agentDbDump(siteDir)).toBe(before);
    // Nothing of the bundle is left: its staging directory went, the cache's tmp/ (partial downloads) is empty.
    expect(readdirSync(join(siteDir, 'artifacts')).sort()).toEqual(['sha256', 'tmp']);
    expect(readdirSync(join(siteDir, 'artifacts', 'tmp'))).toEqual([]);
    expect(readdirSync(join(siteDir, 'artifacts', 'sha256'))).toHaveLength(cached);
    // With room, the same file imports.
    expect((await clis.agent('bundle', 'import', '--data', siteDir, again)).code).toBe(0);
  }, 60_000);

  it('splits into parts that import in order; a missing part is named, a wrong order refused', async () => {
    const otherDir = join(hub.dir, 'site-other');
    const base = join(hub.dir, 'split.tar');
    const made = await clis.outpost('bundle', 'create', '--site', 'other', '--enroll', '--max-part-size', '2M', '-o', base);
    expect(made.code).toBe(0);
    const parts = readdirSync(hub.dir).filter((f) => f.startsWith('split.tar.part-')).sort().map((f) => join(hub.dir, f));
    expect(parts.length).toBe(4);
    expect(basename(parts[0]!)).toBe('split.tar.part-0001-of-0004');
    const missing = await clis.agent('bundle', 'import', '--data', otherDir, '--ca-hash', hub.caHash, parts[0]!, parts[1]!, parts[3]!);
    expect(missing.stderr).toMatch(/MISSING_PART.*part 3 \(.*split\.tar\.part-0003-of-0004\) is missing/);
    const swapped = await clis.agent('bundle', 'import', '--data', otherDir, '--ca-hash', hub.caHash, parts[1]!, parts[0]!, parts[2]!, parts[3]!);
    expect(swapped.stderr).toMatch(/PART_ORDER.*out of order/);
    // A cache too small for the bundle's artifacts refuses it before one is taken, naming the flag; the
    // directory stays as empty as it was, so the enrolment can be imported again.
    const small = await clis.agent('bundle', 'import', '--data', otherDir, '--ca-hash', hub.caHash, '--artifact-cache-size', '2MiB', ...parts);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/bundle refused \(CACHE_FULL\): the 7 artifacts to cache need 7340032 bytes the cache does not hold yet, more than the whole cache may hold \(2097152 bytes\): raise --artifact-cache-size .*nothing was applied/);
    expect(readdirSync(otherDir)).toEqual(['artifacts']);
    expect(readdirSync(join(otherDir, 'artifacts', 'sha256'))).toEqual([]);
    const ok = await clis.agent('bundle', 'import', '--data', otherDir, '--ca-hash', hub.caHash, ...parts);
    expect(ok.stderr).toMatch(/^note: 1 of this site's clusters have no CAs here yet/);
    expect(ok.stdout).toMatch(/imported full bundle for site other .* 7 artifacts cached/);
  }, 90_000);

  it('online, then offline through bundles, then online again, without losing or re-applying anything', async () => {
    await hub.apply(...bundleSite('yard'));
    const agent = await TestAgent.join(hub, { site: 'yard' }, 'yard');
    // Joined before: it pinned the key from the join answer. Drop it to see the Welcome pin it again.
    const idPath = join(agent.dataDir, 'identity.json');
    const identity = JSON.parse(readFileSync(idPath, 'utf8')) as { bundleKey?: string };
    expect(identity.bundleKey).toMatch(/BEGIN PUBLIC KEY/);
    const { bundleKey: _pinned, ...withoutKey } = identity;
    writeFileSync(idPath, JSON.stringify(withoutKey));
    agent.start();
    const api = hub.api();
    const cluster = (): Promise<Cluster> => api.get<Cluster>(api.kind('Cluster'), 'c-yard', 'p');
    await waitFor('Received online', async () => received(await cluster())?.status === 'True');
    await waitFor('the Welcome to pin the bundle key', () => (JSON.parse(readFileSync(idPath, 'utf8')) as { bundleKey?: string }).bundleKey === identity.bundleKey);
    await agent.stop();

    // Offline: a change reaches the site on a disk.
    const onlineRevision = agentRevision(agent.dataDir);
    await changeSpec('c-yard');
    const delta = join(hub.dir, 'yard.tar');
    expect((await clis.outpost('bundle', 'create', '--site', 'yard', '--since', String(onlineRevision), '-o', delta)).code).toBe(0);
    // Imported while `run --offline` runs: it notices the new revision and reconciles.
    const offline = new TestAgent(hub, agent.dataDir).start(['--offline']);
    await waitFor('the offline agent to start', () => offline.proc!.stdout.includes('running offline'));
    expect((await clis.agent('bundle', 'import', '--data', agent.dataDir, delta)).code).toBe(0);
    const offlineRevision = agentRevision(agent.dataDir);
    expect(offlineRevision).toBeGreaterThan(onlineRevision);
    await waitFor('the offline agent to reconcile the imported change', () => (agentLastStatus(agent.dataDir, 'Cluster', 'p', 'c-yard') as { cluster?: { observedGeneration?: number } } | undefined)?.cluster?.observedGeneration === 2);
    await offline.stop();
    const statusFile = join(hub.dir, 'yard-status.json');
    expect((await clis.agent('bundle', 'export-status', '--data', agent.dataDir, '-o', statusFile)).code).toBe(0);
    expect((await clis.outpost('bundle', 'import-status', statusFile)).code).toBe(0);
    expect(received(await cluster())).toMatchObject({ status: 'True', observedGeneration: 2 });

    // Online again: it resumes from the bundle's revision (nothing pulled twice), sends its outbox, and the Ack clears it.
    agent.start();
    await waitFor('the outbox to be acked online', () => agentOutbox(agent.dataDir).length === 0);
    expect(agentRevision(agent.dataDir)).toBeGreaterThanOrEqual(offlineRevision);
    expect(received(await cluster())).toMatchObject({ status: 'True', observedGeneration: 2 });
    await changeSpec('c-yard');
    await waitFor('the next change online', async () => received(await cluster())?.observedGeneration === 3);
    await agent.stop();
  }, 90_000);
});

describe('a hub directory made before bundles', () => {
  it('gets its bundle signing key when the hub starts, and says so', async () => {
    const hub = await TestHub.start({ beforeServe: (dataDir) => rmSync(join(dataDir, 'bundle.key')) });
    try {
      expect(hub.proc!.stderr).toMatch(/made the bundle signing key this hub directory lacked/);
      expect(statSync(join(hub.dataDir, 'bundle.key')).mode & 0o777).toBe(0o600);
    } finally {
      await hub.stop();
    }
  }, 30_000);
});
