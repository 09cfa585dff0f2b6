// Artifacts with real processes: `outpost release import` into the hub's content store, blobs served with
// Range to admins and to agents for what a Release lists, and a site agent's cache that resumes a download
// killed with -9 half way (the hub's access log shows the Range it resumed with) and refuses tampered bytes;
// the hub's garbage collection of blobs no Release lists (by an admin, after a Release delete, periodic).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { BLOB_PATH, findKind, type Release } from '@outpost/proto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putBlobs, release } from '../lib/bundles.js';
import { agentObjects, names } from '../lib/agent-state.js';
import { datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST, OUTPOST_AGENT, Proc, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const MiB = 1024 * 1024;
const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A small release directory: tiny binaries and CNI plugins (kubelet big enough to kill mid-download), one image archive. */
function writeReleaseDir(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const put = (rel: string, bytes: Buffer): void => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
    files[rel] = bytes;
  };
  put('bin/kubeadm', randomBytes(64 * 1024));
  put('bin/kubelet', randomBytes(24 * MiB));
  put('bin/kubectl', randomBytes(256 * 1024));
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) put(`cni/${p}`, randomBytes(4096));
  // A docker-archive as `ctr images export` writes one: manifest.json names the reference.
  const image = join(dir, 'image-src');
  mkdirSync(image, { recursive: true });
  writeFileSync(join(image, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['outpost.local/pause:test'], Layers: [] }]));
  writeFileSync(join(image, 'config.json'), '{}');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const tar = spawnSync('tar', ['-cf', join(dir, 'images', 'pause.tar'), '-C', image, 'manifest.json', 'config.json']);
  expect(tar.status).toBe(0);
  rmSync(image, { recursive: true });
  files['images/pause.tar'] = readFileSync(join(dir, 'images', 'pause.tar'));
  writeFileSync(join(dir, 'release.yaml'), 'apiVersion: outpost.dev/v1alpha1\nkind: Release\nmetadata:\n  name: 1.34.4\nspec:\n  version: 1.34.4\n  components:\n    pause: outpost.local/pause:test\n');
  return files;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function blobRequest(hub: TestHub, method: string, digest: string, opts: { token?: string; range?: string; body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`${BLOB_PATH}/${digest}`, hub.url), {
      method,
      ca: hub.caCertPem,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.range ? { range: opts.range } : {}), ...(opts.body ? { 'content-length': opts.body.length } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The hub's "blob served" access log lines (pino JSON on stderr). */
function servedLog(hub: TestHub): Array<{ agent?: string; admin?: string; digest: string; range?: string; bytes: number }> {
  return (hub.proc?.stderr ?? '').split('\n').filter((l) => l.includes('"blob served"')).map((l) => JSON.parse(l) as { agent?: string; digest: string; range?: string; bytes: number });
}

describe('artifacts: release import, blobs by digest, the agent cache', () => {
  let hub: TestHub;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let files: Record<string, Buffer>;
  let agent: TestAgent;
  let credential: string;
  const blobsOnHub = (): string[] => readdirSync(join(hub.dataDir, 'blobs', 'sha256')).sort();

  beforeAll(async () => {
    // info: the hub's access log of blob reads.
    hub = await TestHub.start({ serveArgs: ['--log-level', 'info', '--max-upload-size', '32MiB'] });
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
    expect(login.code, login.stderr).toBe(0);
    dir = join(hub.dir, 'release');
    files = writeReleaseDir(dir);
    await hub.apply(site('store-0412'), datacenter('hamburg', { site: 'store-0412' }));
  });
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await hub?.stop();
  });

  it('refuses a directory that lacks an artifact the Release needs, naming it, and uploads nothing', async () => {
    const partial = join(hub.dir, 'release-missing');
    cpSync(dir, partial, { recursive: true });
    rmSync(join(partial, 'cni', 'portmap'));
    const r = await run(OUTPOST, ['release', 'import', partial], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cni portmap (the default pod network needs it)');
    expect(r.stderr).toContain('nothing was uploaded');
    // An image the Release names and no archive holds is named too.
    writeFileSync(join(partial, 'release.yaml'), readFileSync(join(dir, 'release.yaml'), 'utf8') + '    kube-proxy: outpost.local/kube-proxy:v1.34.4\n');
    const r2 = await run(OUTPOST, ['release', 'import', partial], { env });
    expect(r2.stderr).toContain('image outpost.local/kube-proxy:v1.34.4 (spec.components.kube-proxy)');
    expect(blobsOnHub()).toEqual([]);
  });

  it('imports a release directory: every file into the store, the Release with names, types, digests and sizes; again, nothing is sent twice', async () => {
    const r = await run(OUTPOST, ['release', 'import', dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('8 blobs');
    expect(r.stdout).toContain('0 already at the hub; uploading 8');
    expect(r.stdout).toContain('release.outpost.dev/1.34.4 created with 8 artifacts');
    expect(blobsOnHub()).toEqual(Object.values(files).map((b) => digestOf(b).slice(7)).sort());
    for (const f of blobsOnHub()) expect(statSync(join(hub.dataDir, 'blobs', 'sha256', f)).mode & 0o777).toBe(0o600);
    const release = await hub.api().get<Release>(findKind('releases')!, '1.34.4');
    const list = (release.spec?.artifacts ?? []).map((a) => `${a.type} ${a.name} ${a.digest} ${a.size}`);
    expect(list).toContain(`binary kubelet ${digestOf(files['bin/kubelet']!)} ${24 * MiB}`);
    expect(list).toContain(`cni portmap ${digestOf(files['cni/portmap']!)} 4096`);
    expect(list).toContain(`image outpost.local/pause:test ${digestOf(files['images/pause.tar']!)} ${files['images/pause.tar']!.length}`);
    const again = await run(OUTPOST, ['release', 'import', dir], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('8 already at the hub; uploading 0');
    expect(again.stdout).toContain('updated with 8 artifacts');
  });

  it('serves a blob to an admin whole and by Range (206), 416 past its end, 401 without a token', async () => {
    const kubeadm = files['bin/kubeadm']!;
    const d = digestOf(kubeadm);
    const whole = await blobRequest(hub, 'GET', d, { token: hub.adminToken });
    expect(whole.status).toBe(200);
    expect(whole.body.equals(kubeadm)).toBe(true);
    const part = await blobRequest(hub, 'GET', d, { token: hub.adminToken, range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${kubeadm.length}`);
    expect(part.body.equals(kubeadm.subarray(100, 200))).toBe(true);
    const bad = await blobRequest(hub, 'GET', d, { token: hub.adminToken, range: `bytes=${kubeadm.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${kubeadm.length}`);
    expect((await blobRequest(hub, 'GET', d)).status).toBe(401);
  });

  it('refuses an upload whose bytes are not its digest, or over --max-upload-size, and keeps nothing', async () => {
    const before = blobsOnHub();
    const wrong = await blobRequest(hub, 'PUT', `sha256:${'1'.repeat(64)}`, { token: hub.adminToken, body: Buffer.from('not those bytes') });
    expect(wrong.status).toBe(400);
    expect(wrong.body.toString()).toContain('nothing was kept');
    const big = randomBytes(33 * MiB);
    const tooBig = await blobRequest(hub, 'PUT', digestOf(big), { token: hub.adminToken, body: big });
    expect(tooBig.status).toBe(413);
    expect(blobsOnHub()).toEqual(before);
    expect(readdirSync(join(hub.dataDir, 'blobs', 'tmp'))).toEqual([]);
  });

  it("an agent reads only what a Release in its view lists: another blob is 404, an upload 403", async () => {
    agent = (await TestAgent.join(hub, { site: 'store-0412' }, 'a')).start(['--log-level', 'warn']);
    await waitFor('the Release in the agent state', () => names(agentObjects(agent.dataDir)).includes('Release/1.34.4'));
    await agent.stop();
    credential = (JSON.parse(readFileSync(join(agent.dataDir, 'identity.json'), 'utf8')) as { credential: string }).credential;
    const listed = digestOf(files['bin/kubeadm']!);
    expect((await blobRequest(hub, 'GET', listed, { token: credential, range: 'bytes=0-0' })).status).toBe(206);
    // The hub holds this one, but no Release lists it: to an agent it is as if it were not there.
    const unlisted = Buffer.from('an artifact of no release');
    expect((await blobRequest(hub, 'PUT', digestOf(unlisted), { token: hub.adminToken, body: unlisted })).status).toBe(201);
    expect((await blobRequest(hub, 'GET', digestOf(unlisted), { token: hub.adminToken })).status).toBe(200);
    const hidden = await blobRequest(hub, 'GET', digestOf(unlisted), { token: credential });
    expect(hidden.status).toBe(404);
    expect((await blobRequest(hub, 'GET', `sha256:${'2'.repeat(64)}`, { token: credential })).status).toBe(404);
    expect((await blobRequest(hub, 'PUT', digestOf(unlisted), { token: credential, body: unlisted })).status).toBe(403);
    const fetch = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, digestOf(unlisted)]);
    expect(fetch.code).toBe(1);
    expect(fetch.stderr).toContain('no Release this agent has received lists it');
  });

  it('resumes a download killed with -9 half way, with a Range from the partial, and keeps only verified bytes', async () => {
    const kubelet = files['bin/kubelet']!;
    const d = digestOf(kubelet);
    const partial = join(agent.dataDir, 'artifacts', 'tmp', `${d.slice(7)}.partial`);
    // 4 MiB/s: the 24 MiB take 6 s, so the kill lands well inside.
    const slow = new Proc(spawn(process.execPath, [OUTPOST_AGENT, 'artifacts', 'fetch', '--data', agent.dataDir, '--artifact-max-rate', '4MiB', d], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await waitFor('half a download', () => existsSync(partial) && statSync(partial).size > 6 * MiB, 20_000, 20);
    await slow.kill('SIGKILL');
    const left = statSync(partial).size;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(kubelet.length);
    expect(existsSync(join(agent.dataDir, 'artifacts', 'sha256', d.slice(7)))).toBe(false);

    const resumed = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, d]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`resumed at byte ${left}: ${kubelet.length - left} bytes downloaded`);
    const cached = join(agent.dataDir, 'artifacts', 'sha256', d.slice(7));
    expect(readFileSync(cached).equals(kubelet)).toBe(true);
    expect(statSync(cached).mode & 0o777).toBe(0o600);
    expect(existsSync(partial)).toBe(false);
    // The hub saw a whole request, then one Range from exactly where the partial ended.
    const reads = servedLog(hub).filter((l) => l.digest === d && l.agent);
    expect(reads.map((l) => l.range)).toEqual([undefined, `${left}-${kubelet.length - 1}`]);
    expect(reads[1]!.bytes).toBe(kubelet.length - left);
    // Asked again, it is there: nothing is downloaded.
    const cachedAgain = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, d]);
    expect(cachedAgain.stdout).toContain('(already cached)');
    expect(servedLog(hub).filter((l) => l.digest === d && l.agent)).toHaveLength(2);
  });

  it("refuses a blob whose bytes on the hub's disk were changed: the partial is deleted and nothing is cached", async () => {
    const kubectl = files['bin/kubectl']!;
    const d = digestOf(kubectl);
    const onHub = join(hub.dataDir, 'blobs', 'sha256', d.slice(7));
    const tampered = Buffer.from(kubectl);
    tampered[1000] = tampered[1000]! ^ 0xff;
    writeFileSync(onHub, tampered);
    const r = await run(OUTPOST_AGENT, ['artifacts', 'fetch', '--data', agent.dataDir, d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hashes to ${digestOf(tampered)}`);
    expect(r.stderr).toContain('were deleted');
    expect(existsSync(join(agent.dataDir, 'artifacts', 'sha256', d.slice(7)))).toBe(false);
    expect(existsSync(join(agent.dataDir, 'artifacts', 'tmp', `${d.slice(7)}.partial`))).toBe(false);
  });
});

describe('artifacts through gateway processes', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses: 1 });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('streams an upload to the primary and a Range read back, through the gateway process', async () => {
    const blob = randomBytes(3 * MiB);
    const d = digestOf(blob);
    expect((await blobRequest(hub, 'HEAD', d, { token: hub.adminToken })).status).toBe(404);
    expect((await blobRequest(hub, 'PUT', d, { token: hub.adminToken, body: blob })).status).toBe(201);
    const part = await blobRequest(hub, 'GET', d, { token: hub.adminToken, range: `bytes=${MiB}-` });
    expect(part.status).toBe(206);
    expect(part.body.equals(blob.subarray(MiB))).toBe(true);
  });
});

describe('the hub garbage-collects blobs no Release lists', () => {
  let hub: TestHub;
  let adminEnv: NodeJS.ProcessEnv;
  let viewerEnv: NodeJS.ProcessEnv;
  const blobDir = (): string => join(hub.dataDir, 'blobs', 'sha256');
  const held = (digest: string): boolean => existsSync(join(blobDir(), digest.slice('sha256:'.length)));
  const twoDaysAgo = (): Date => new Date(Date.now() - 2 * 86_400_000);
  /** A blob straight into the store, as an upload leaves it; `old` backdates its file past the grace. */
  const putBlob = (bytes: number, old: boolean): string => {
    const data = randomBytes(bytes);
    const d = digestOf(data);
    const path = join(blobDir(), d.slice('sha256:'.length));
    writeFileSync(path, data);
    if (old) utimesSync(path, twoDaysAgo(), twoDaysAgo());
    return d;
  };
  const login = async (name: string, token: string): Promise<NodeJS.ProcessEnv> => {
    writeFileSync(join(hub.dir, `${name}.token`), token);
    const e = { OUTPOST_CONFIG: join(hub.dir, `${name}-cli-config`) };
    const r = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dir, `${name}.token`), '--ca-file', join(hub.dataDir, 'ca.crt')], { env: e });
    expect(r.stderr).toBe('');
    return e;
  };
  const audit = (): Array<{ actor: string; verb: string; name: string }> => {
    const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      return db.prepare(`SELECT actor, verb, name FROM audit WHERE kind = 'Blob' ORDER BY id`).all() as Array<{ actor: string; verb: string; name: string }>;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    hub = await TestHub.start();
    adminEnv = await login('admin', hub.adminToken);
    await hub.apply(project('p'));
    const viewer = await hub.api().create<{ status: { token: string } }>({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: {}, spec: { type: 'api', role: 'viewer', project: 'p' } } as never);
    viewerEnv = await login('viewer', viewer.status.token);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('removes an old blob no Release lists, keeps a listed one and a fresh one; a dry run removes nothing; a viewer is refused', async () => {
    const listed = putBlobs(hub.dataDir, 1024);
    for (const a of listed) utimesSync(join(blobDir(), a.digest.slice('sha256:'.length)), twoDaysAgo(), twoDaysAgo());
    await hub.apply(release('1.33.0', listed));
    const old = putBlob(2048, true);
    const fresh = putBlob(1024, false);
    // As `outpost release import` asks before it skips an upload: that refreshes the blob for the grace.
    const asked = putBlob(1024, true);
    expect((await blobRequest(hub, 'HEAD', asked, { token: hub.adminToken })).status).toBe(200);

    const refused = await run(OUTPOST, ['artifacts', 'gc'], { env: viewerEnv });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/may not run the blob garbage collector: only admins/);
    expect(held(old)).toBe(true);

    const dry = await run(OUTPOST, ['artifacts', 'gc', '--dry-run'], { env: adminEnv });
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toMatch(new RegExp(`^would remove ${old} \\(2\\.0 KiB, written \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\)\\ndry run: would remove 1 blob no Release lists, 2\\.0 KiB; nothing was removed; kept 7 a Release lists, 2 younger than the grace of 1d, 0 being read\\n$`));
    expect(held(old)).toBe(true);

    const swept = await run(OUTPOST, ['artifacts', 'gc'], { env: adminEnv });
    expect(swept.stderr).toBe('');
    expect(swept.stdout).toMatch(new RegExp(`^removed ${old} \\(2\\.0 KiB, .*\\)\\nremoved 1 blob no Release lists, 2\\.0 KiB freed; kept 7 a Release lists, 2 younger than the grace of 1d, 0 being read\\n$`));
    expect([held(old), held(fresh), held(asked), ...listed.map((a) => held(a.digest))]).toEqual([false, true, true, ...listed.map(() => true)]);
    const admin = hub.adminToken.split('.')[0]!;
    expect(audit()).toEqual([
      { actor: admin, verb: 'gc-blobs-dry-run', name: '' },
      { actor: admin, verb: 'gc-blobs', name: '' },
      { actor: admin, verb: 'delete-blob', name: old },
    ]);
  }, 60_000);

  it("sweeps soon after a Release is deleted: its old blobs go, by the hub's own hand", async () => {
    const listed = (await hub.api().get<Release>(findKind('releases')!, '1.33.0')).spec!.artifacts!.map((a) => a.digest!);
    await hub.api().delete(findKind('releases')!, '1.33.0');
    await waitFor('the deleted Release\'s blobs to be removed', () => listed.every((d) => !held(d)), 10_000);
    expect(audit().filter((r) => r.actor === 'hub:blob-gc').map((r) => r.name).sort()).toEqual([...listed].sort());
  }, 30_000);
});

describe('the hub sweeps its content store every --blob-gc-interval', () => {
  it('removes an old unreferenced blob by itself', async () => {
    const hub = await TestHub.start({ serveArgs: ['--blob-gc-interval', '1s'] });
    try {
      const data = randomBytes(1024);
      const path = join(hub.dataDir, 'blobs', 'sha256', digestOf(data).slice('sha256:'.length));
      writeFileSync(path, data);
      const old = new Date(Date.now() - 2 * 86_400_000);
      utimesSync(path, old, old);
      await waitFor('the periodic sweep', () => !existsSync(path), 10_000);
    } finally {
      await hub.stop();
    }
  }, 30_000);
});
