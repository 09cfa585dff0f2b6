// The test world's own release: `npm run world -- release --dir D` writes it from the built binaries and
// image archives, `outpost release import D` takes it into a real hub, and the Release lists every
// component's image (read from the archives themselves) and the binaries kubeadm needs, for this platform.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { BLOB_PATH, findKind, missingArtifacts, type Release } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, run, TestHub } from '../lib/processes.js';
import { binary, VERSIONS } from '../world/binaries.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe("the test world's release, imported", () => {
  let hub: TestHub;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    hub = await TestHub.start();
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
    expect(login.code, login.stderr).toBe(0);
    dir = join(hub.dir, 'release');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('writes the directory quickly, imports it, and the Release holds every artifact a cluster needs', async () => {
    const t0 = Date.now();
    const world = spawnSync('npm', ['run', '--silent', 'world', '--', 'release', '--dir', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(world.status, world.stderr).toBe(0);
    expect(world.stdout).toContain(`release ${VERSIONS.kubernetes.replace(/^v/, '')}`);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const imported = await run(OUTPOST, ['release', 'import', dir], { env, timeoutMs: 300_000 });
    expect(imported.code, imported.stderr).toBe(0);
    const release = await hub.api().get<Release>(findKind('releases')!, VERSIONS.kubernetes.replace(/^v/, ''));
    expect(missingArtifacts(release.spec)).toEqual([]);
    const artifacts = release.spec?.artifacts ?? [];
    // The images at the pinned versions, whatever other versions' archives the world holds beside them.
    expect(release.spec?.components?.['kube-apiserver']).toBe(`outpost.local/kube-apiserver:${VERSIONS.kubernetes}`);
    expect(artifacts.find((a) => a.type === 'image' && a.name === release.spec?.components?.['kube-apiserver'])).toBeTruthy();
    const kubeadm = artifacts.find((a) => a.type === 'binary' && a.name === 'kubeadm')!;
    expect(kubeadm.platform).toBe(`linux/${process.arch === 'x64' ? 'amd64' : process.arch}`);
    expect(kubeadm.digest).toBe(`sha256:${createHash('sha256').update(readFileSync(binary('kubeadm'))).digest('hex')}`);
    // The hub serves its first bytes: an ELF executable.
    const head = await new Promise<Buffer>((resolve, reject) => {
      const req = request(new URL(`${BLOB_PATH}/${kubeadm.digest}`, hub.url), { ca: hub.caCertPem, headers: { authorization: `Bearer ${hub.adminToken}`, range: 'bytes=0-3' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end();
    });
    expect(head.toString('latin1')).toBe('\x7fELF');
  });
});
