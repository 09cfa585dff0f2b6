// The site agent's generators against the real programs that read what they write: the test world's
// kubeadm validates the init and join configs and lists exactly the Release's images for them; this
// machine's containerd (Debian's 1.6, config version 2) loads the containerd config; /bin/sh parses the
// install plan's commands back into the hostile names they were given. Nothing here changes the machine.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { site } from '@outpost/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binary, imagesDir, VERSIONS } from '../world/binaries.js';
import { worldComponents } from '../world/releases.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-site-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kubeadm = (...args: string[]) => spawnSync(binary('kubeadm'), args, { encoding: 'utf8', timeout: 60_000 });
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

// The world's Release of the current version (its CoreDNS included; DNS-less clusters are checked below).
const components: Record<string, string> = worldComponents(VERSIONS.kubernetes);
// As `kubeadm token generate` and `kubeadm certs certificate-key` make them (the flow derives its own).
const TOKEN = 'abcdef.0123456789abcdef';
const CERTIFICATE_KEY = 'ab'.repeat(32);
const plan = site.kubeadmImagePlan({ release: 'world', kubernetesVersion: VERSIONS.kubernetes, components, dns: true, proxy: true });
const initInputs = (images: site.KubeadmImagePlan, certificateKey?: string): site.KubeadmInitInputs => ({
  clusterName: 'c1',
  images,
  controlPlaneEndpoint: '10.0.0.11:6443',
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  certSANs: ['api.c1.example'],
  kubelet: { cgroupDriver: 'systemd', swap: 'NoSwap' },
  node: { name: 'host-1', address: '10.0.0.11', ignorePreflightErrors: ['Swap'] },
  bootstrapToken: { token: TOKEN, ttlSeconds: 7200 },
  ...(certificateKey ? { certificateKey } : {}),
});

describe('kubeadm reads the configs the site agent writes', () => {
  it('validates the init config, and lists exactly the Release\'s images for it (pause under kubeadm\'s name)', () => {
    const config = write('init.yaml', site.kubeadmInitConfig(initInputs(plan, CERTIFICATE_KEY)));
    const v = kubeadm('config', 'validate', '--config', config);
    expect(v.stderr + v.stdout).not.toMatch(/error|unknown field|W\d{4}/i);
    expect(v.status).toBe(0);
    const listed = kubeadm('config', 'images', 'list', '--config', config);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n')).toEqual(plan.images);
    // Every image but pause is the Release's own reference; pause is the alias the install plan tags.
    const release = new Set(Object.values(components));
    expect(plan.images.filter((i) => !release.has(i))).toEqual(plan.aliases.map((a) => a.target));
    expect(plan.aliases).toEqual([{ component: 'pause', source: components.pause, target: expect.stringMatching(/^outpost\.local\/pause:/) }]);
    // The table of pause tags agrees with the kubeadm binary itself.
    expect(`outpost.local/pause:${site.listedPauseTag(listed.stdout)}`).toBe(plan.aliases[0]?.target);
  });

  it('lists no CoreDNS or kube-proxy for a cluster without them', () => {
    const { 'kube-proxy': _p, coredns: _d, ...bare } = worldComponents(VERSIONS.kubernetes);
    const images = site.kubeadmImagePlan({ release: 'world', kubernetesVersion: VERSIONS.kubernetes, components: bare, dns: false, proxy: false });
    const config = write('init-bare.yaml', site.kubeadmInitConfig(initInputs(images)));
    expect(kubeadm('config', 'validate', '--config', config).status).toBe(0);
    const listed = kubeadm('config', 'images', 'list', '--config', config);
    expect(listed.stdout.trim().split('\n')).toEqual(images.images);
  });

  it('validates a worker\'s and a control-plane member\'s join config', () => {
    const common = { apiServerEndpoint: '10.0.0.11:6443', token: TOKEN, caCertHashes: [`sha256:${'ab'.repeat(32)}`] };
    const worker = write('join-worker.yaml', site.kubeadmJoinConfig({ ...common, node: { name: 'worker-1', address: '10.0.0.21' } }));
    const member = write('join-cp.yaml', site.kubeadmJoinConfig({ ...common, node: { name: 'host-2', address: '10.0.0.12' }, controlPlane: { certificateKey: CERTIFICATE_KEY } }));
    for (const config of [worker, member]) {
      const v = kubeadm('config', 'validate', '--config', config);
      expect(v.status, v.stderr).toBe(0);
      expect(v.stderr).not.toMatch(/unknown field/i);
    }
  });

  it('refuses what kubeadm would refuse, so the check can fail: a config kubeadm reads as invalid is caught by validate', () => {
    // The same init config with a field v1beta4 does not have: proof that validate rejects bad files here.
    const config = write('init-bad.yaml', site.kubeadmInitConfig(initInputs(plan)).replace('imagePullPolicy: Never', 'imagePullPolicy: Sometimes'));
    expect(kubeadm('config', 'validate', '--config', config).status).not.toBe(0);
  });
});

describe('containerd reads its config', () => {
  const containerd = (): string => execFileSync('containerd', ['--version'], { encoding: 'utf8' });

  it('is the version format this machine\'s containerd takes, and pins the sandbox and cgroup driver', () => {
    const version = site.containerdConfigVersion(containerd());
    const config = write('containerd.toml', site.containerdConfigToml({ version, sandboxImage: plan.sandboxImage, systemdCgroup: true }));
    const dump = spawnSync('containerd', ['--config', config, 'config', 'dump'], { encoding: 'utf8', timeout: 30_000 });
    expect(dump.status, dump.stderr).toBe(0);
    const sandbox = version === 2 ? /sandbox_image = "outpost\.local\/pause:test"/ : /sandbox = "outpost\.local\/pause:test"/;
    expect(dump.stdout).toMatch(sandbox);
    expect(dump.stdout).toMatch(/SystemdCgroup = true/);
  });
});

describe('/bin/sh runs the install plan\'s commands as written', () => {
  it('passes hostile operands through quoting unchanged', () => {
    const hostile = ["it's", 'a b', '$(touch /tmp/pwned)', '`id`', 'x;y&z|w', 'new\nline', '*', '~', 'a=b', '-n', '"dq"', '\\'];
    const out = execFileSync('/bin/sh', ['-c', site.shJoin(['printf', '%s\\0', ...hostile])], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(hostile);
  });

  it('installs a binary, skips it once there, and refuses a damaged upload', () => {
    const paths = site.hostPaths({ binDir: join(dir, 'bin'), cniBinDir: join(dir, 'cni'), cniConfDir: join(dir, 'net.d'), stagingDir: join(dir, 'staging') });
    const bytes = '#!/bin/sh\necho kubeadm\n';
    const hex = execFileSync('sha256sum', { input: bytes, encoding: 'utf8' }).split(' ')[0]!;
    const artifacts = [...['kubeadm', 'kubelet', 'kubectl'].map((n) => ({ type: 'binary', name: n, digest: `sha256:${hex}`, platform: 'linux/amd64', size: bytes.length })), ...['bridge', 'host-local', 'loopback', 'portmap'].map((n) => ({ type: 'cni', name: n, digest: `sha256:${hex}`, platform: 'linux/amd64', size: bytes.length }))];
    const plan = site.installPlan({ release: 'r', artifacts, components: {}, platform: 'linux/amd64', localPath: (d) => join(dir, 'cache', d), paths });
    const sh = (cmd: string) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
    expect(sh(plan.files[0]!.run).status).toBe(0);
    const step = plan.files.find((s) => s.id === 'binary/kubeadm')!;
    if (step.kind !== 'upload') throw new Error('kubeadm is an upload');
    expect(sh(step.skipIf!).status).not.toBe(0);
    writeFileSync(step.upload.to, 'damaged');
    const bad = sh(step.run);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('the upload was damaged');
    writeFileSync(step.upload.to, bytes);
    expect(sh(step.run).status).toBe(0);
    expect(sh(step.skipIf!).status).toBe(0);
    expect(execFileSync(plan.binaries.kubeadm!, { encoding: 'utf8' })).toBe('kubeadm\n');
  });
});

describe('systemd and /bin/sh read the host files', () => {
  const host = join(dir, 'host');
  const paths = site.hostPaths({ binDir: join(host, 'bin'), systemdDir: join(host, 'systemd') });
  const place = (f: site.HostFile): string => {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
    chmodSync(f.path, f.mode);
    return f.path;
  };
  mkdirSync(paths.binDir, { recursive: true });
  symlinkSync(binary('kubelet'), join(paths.binDir, 'kubelet'));

  it('systemd-analyze finds nothing wrong with the units and kubeadm\'s drop-in', () => {
    const nodes = [
      { name: 'a', address: '10.0.0.11', podCidr: '10.244.0.0/24' },
      { name: 'b', address: '10.0.0.12', podCidr: '10.244.1.0/24' },
    ];
    place(site.podNetworkScript(paths, 'a', nodes, '10.244.0.0/16'));
    place(site.kubeletKubeadmDropIn(paths));
    const units = [site.kubeletUnit(paths), site.containerdUnit(paths, execFileSync('sh', ['-c', 'command -v containerd'], { encoding: 'utf8' }).trim()), site.podNetworkUnit(paths)].map(place);
    for (const unit of units) {
      const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 60_000 });
      expect(v.status, v.stderr).toBe(0);
      // Unknown keys and sections are only warnings to systemd: a typo would pass silently without this.
      expect(v.stderr).not.toMatch(/Unknown|Invalid|bad unit|ignoring/i);
    }
  });

  it('/bin/sh parses the pod network script', () => {
    const script = site.podNetworkScript(paths, 'b', [{ name: 'a', address: '10.0.0.11', podCidr: '10.244.0.0/24' }, { name: 'b', address: '10.0.0.12', podCidr: '10.244.1.0/24' }], '10.244.0.0/16');
    const r = spawnSync('/bin/sh', ['-n', place(script)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('a real containerd imports the Release\'s images as the install plan says', () => {
  const cdir = join(dir, 'containerd');
  const socket = join(cdir, 'c.sock');
  const ctr = ['ctr', '-a', socket];
  let containerd: ChildProcess | undefined;
  let stderr = '';
  const sh = (cmd: string) => spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 });
  const archive = join(imagesDir(), readdirSync(imagesDir()).find((f) => f.startsWith('pause-') && f.endsWith('.tar'))!);
  const digest = `sha256:${createHash('sha256').update(readFileSync(archive)).digest('hex')}`;
  const paths = site.hostPaths({ binDir: join(dir, 'img-bin'), cniBinDir: join(dir, 'img-cni'), cniConfDir: join(dir, 'img-net.d'), stagingDir: join(dir, 'img-staging') });
  const fake = `sha256:${'0'.repeat(64)}`;
  const plan = (pauseName: string) =>
    site.installPlan({
      release: 'world',
      artifacts: [
        ...['kubeadm', 'kubelet', 'kubectl'].map((name) => ({ type: 'binary', name, digest: fake, platform: 'linux/amd64' })),
        ...['bridge', 'host-local', 'loopback', 'portmap'].map((name) => ({ type: 'cni', name, digest: fake, platform: 'linux/amd64' })),
        { type: 'image', name: pauseName, digest, platform: '', size: 1 },
      ],
      components: { pause: pauseName },
      platform: 'linux/amd64',
      localPath: () => archive,
      paths,
      aliases: [{ component: 'pause', source: pauseName, target: 'outpost.local/pause:3.10.1' }],
      ctr,
    });

  beforeAll(async () => {
    mkdirSync(cdir, { recursive: true });
    // This machine's containerd, on sockets and directories of its own so it meets no other containerd here;
    // between those lines, the config the site agent writes.
    const own = `root = "${cdir}/root"\nstate = "${cdir}/state"\n`;
    const apart = `\n[grpc]\n  address = "${socket}"\n[ttrpc]\n  address = "${socket}.ttrpc"\n[debug]\n  address = ""\n[metrics]\n  address = ""\n`;
    const version = site.containerdConfigVersion(execFileSync('containerd', ['--version'], { encoding: 'utf8' }));
    writeFileSync(join(cdir, 'config.toml'), own + site.containerdConfigToml({ version, sandboxImage: 'outpost.local/pause:test', systemdCgroup: false }) + apart);
    containerd = spawn('containerd', ['--config', join(cdir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    containerd.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    for (let i = 0; i < 150 && !(existsSync(socket) && spawnSync('ctr', ['-a', socket, 'version']).status === 0); i++) await new Promise((r) => setTimeout(r, 200));
    if (spawnSync('ctr', ['-a', socket, 'version']).status !== 0) throw new Error(`containerd did not come up: ${stderr}`);
    expect(sh(plan('outpost.local/pause:test').files[0]!.run).status).toBe(0);
  });
  afterAll(async () => {
    if (containerd && containerd.exitCode === null) {
      const exited = new Promise((r) => containerd!.once('exit', r));
      containerd.kill('SIGTERM');
      await exited;
    }
  });

  it('imports an archive it does not have, then skips it; tags the pause kubeadm asks for, then skips that', () => {
    const [image, alias] = plan('outpost.local/pause:test').images;
    if (image?.kind !== 'upload' || alias?.kind !== 'command') throw new Error('an import, then an alias');
    expect(sh(image.skipIf!).status).not.toBe(0);
    copyFileSync(archive, image.upload.to);
    const r = sh(image.run);
    expect(r.status, r.stderr + stderr).toBe(0);
    expect(existsSync(image.upload.to)).toBe(false);
    expect(sh(image.skipIf!).status).toBe(0);
    expect(sh(alias.skipIf!).status).not.toBe(0);
    expect(sh(alias.run).status).toBe(0);
    expect(sh(alias.skipIf!).status).toBe(0);
    expect(execFileSync('ctr', [...ctr.slice(1), '-n', 'k8s.io', 'images', 'ls', '-q'], { encoding: 'utf8' }).split('\n')).toEqual(expect.arrayContaining(['outpost.local/pause:test', 'outpost.local/pause:3.10.1']));
  });

  it('fails, saying why, when an archive does not hold the reference the Release names, or arrived damaged', () => {
    const [wrong] = plan('outpost.local/pause:not-in-archive').images;
    if (wrong?.kind !== 'upload') throw new Error('an import');
    copyFileSync(archive, wrong.upload.to);
    const r = sh(wrong.run);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('does not hold outpost.local/pause:not-in-archive');
    writeFileSync(wrong.upload.to, 'damaged');
    const d = sh(wrong.run);
    expect(d.status).toBe(1);
    expect(d.stderr).toContain('the upload was damaged');
    expect(existsSync(wrong.upload.to)).toBe(false);
  });
});
