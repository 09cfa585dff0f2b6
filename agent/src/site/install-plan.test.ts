// The install plan of a Release on a host. /bin/sh runs a plan's commands in test/e2e/site-generators.test.ts;
// here, which steps there are, in which order, and the exact commands.
import { describe, expect, it } from 'vitest';
import { ArtifactsMissingError, SiteReleaseError } from './errors.js';
import { hostPaths } from './host-paths.js';
import { installPlan, type InstallPlanInputs, type ReleaseArtifact, type UploadStep } from './install-plan.js';

const hex = (c: string) => c.repeat(64);
const bin = (name: string, c: string, platform = 'linux/amd64'): ReleaseArtifact => ({ type: 'binary', name, digest: `sha256:${hex(c)}`, size: 10, platform });
const cni = (name: string, c: string, platform = 'linux/amd64'): ReleaseArtifact => ({ type: 'cni', name, digest: `sha256:${hex(c)}`, size: 5, platform });
const img = (name: string, c: string): ReleaseArtifact => ({ type: 'image', name, digest: `sha256:${hex(c)}`, size: 100, platform: '' });
const components = { 'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4', pause: 'outpost.local/pause:test', etcd: 'outpost.local/etcd:v3.6.16' };
const artifacts: ReleaseArtifact[] = [
  bin('kubectl', '3'),
  bin('kubeadm', '1'),
  bin('kubelet', '2'),
  bin('kubelet', '9', 'linux/arm64'),
  bin('containerd', '4'),
  cni('portmap', 'a'),
  cni('bridge', 'b'),
  cni('host-local', 'c'),
  cni('loopback', 'd'),
  img('outpost.local/kube-apiserver:v1.34.4', 'e'),
  // One archive holding two references.
  img('outpost.local/pause:test', 'f'),
  img('outpost.local/etcd:v3.6.16', 'f'),
];
const input = (over: Partial<InstallPlanInputs> = {}): InstallPlanInputs => ({
  release: '1.34.4',
  artifacts,
  components,
  platform: 'linux/amd64',
  localPath: (d) => `/var/lib/outpost-agent/artifacts/sha256/${d.slice(7)}`,
  paths: hostPaths(),
  ...over,
});
const upload = (s: unknown): UploadStep => {
  if ((s as UploadStep).kind !== 'upload') throw new Error('not an upload');
  return s as UploadStep;
};

describe('installPlan', () => {
  it('makes its directories, then installs kubeadm, kubelet, kubectl, the other binaries and the CNI plugins, for the host\'s platform', () => {
    const plan = installPlan(input());
    expect(plan.files.map((s) => s.id)).toEqual(['dirs', 'binary/kubeadm', 'binary/kubelet', 'binary/kubectl', 'binary/containerd', 'cni/bridge', 'cni/host-local', 'cni/loopback', 'cni/portmap']);
    expect(plan.files[0]?.run).toBe('mkdir -p /usr/local/bin /opt/cni/bin /etc/cni/net.d /var/lib/outpost/staging');
    expect(upload(plan.files[2]).artifact.digest).toBe(`sha256:${hex('2')}`);
    expect(plan.binaries).toEqual({ kubeadm: '/usr/local/bin/kubeadm', kubelet: '/usr/local/bin/kubelet', kubectl: '/usr/local/bin/kubectl', containerd: '/usr/local/bin/containerd' });
    expect(upload(plan.files.find((s) => s.id === 'cni/bridge')).upload.to).toBe(`/opt/cni/bin/.bridge.outpost-${'b'.repeat(12)}`);
  });

  it('uploads a binary beside its target, checks its digest there, then moves it into place; skips it when the host has it', () => {
    const s = upload(installPlan(input()).files[1]);
    const h = hex('1');
    const staged = `/usr/local/bin/.kubeadm.outpost-${'1'.repeat(12)}`;
    expect(s.upload).toEqual({ from: `/var/lib/outpost-agent/artifacts/sha256/${h}`, to: staged, mode: 0o600, size: 10 });
    expect(s.skipIf).toBe(`printf '%s  %s\\n' ${h} /usr/local/bin/kubeadm | sha256sum -c --status 2>/dev/null && test "$(stat -c %a /usr/local/bin/kubeadm)" = 755`);
    expect(s.run).toBe(
      `if printf '%s  %s\\n' ${h} ${staged} | sha256sum -c --status; then chmod 0755 ${staged} && mv -f ${staged} /usr/local/bin/kubeadm; ` +
        `else rm -f ${staged}; echo '${staged} is not sha256:${h}: the upload was damaged and is removed; the step uploads it again' >&2; exit 1; fi`,
    );
  });

  it('imports each image archive once, however many references it holds, skipping it when containerd lists them all', () => {
    const plan = installPlan(input());
    expect(plan.images.map((s) => s.id)).toEqual([`image/sha256:${hex('e')}`, `image/sha256:${hex('f')}`]);
    const s = upload(plan.images[1]);
    expect(s.artifact.names).toEqual(['outpost.local/etcd:v3.6.16', 'outpost.local/pause:test']);
    expect(s.upload.to).toBe(`/var/lib/outpost/staging/${hex('f')}.tar`);
    expect(s.skipIf).toBe('ctr -n k8s.io images ls -q | grep -Fxq -- outpost.local/etcd:v3.6.16 && ctr -n k8s.io images ls -q | grep -Fxq -- outpost.local/pause:test');
    expect(s.run).toContain(`then ctr -n k8s.io images import /var/lib/outpost/staging/${hex('f')}.tar; rc=$?; rm -f`);
    expect(s.run).toContain('does not hold outpost.local/etcd:v3.6.16, outpost.local/pause:test');
  });

  it('tags the images kubeadm asks for under another name after the imports', () => {
    const plan = installPlan(input({ aliases: [{ component: 'pause', source: 'outpost.local/pause:test', target: 'outpost.local/pause:3.10.1' }], ctr: ['/usr/bin/ctr', '-a', '/run/c 2.sock'] }));
    const alias = plan.images.at(-1);
    expect(alias).toEqual({
      kind: 'command',
      id: 'alias/outpost.local/pause:3.10.1',
      description: 'tag outpost.local/pause:test as outpost.local/pause:3.10.1, the pause image kubeadm looks for',
      skipIf: "/usr/bin/ctr -a '/run/c 2.sock' -n k8s.io images ls -q | grep -Fxq -- outpost.local/pause:3.10.1",
      run: "/usr/bin/ctr -a '/run/c 2.sock' -n k8s.io images tag --force outpost.local/pause:test outpost.local/pause:3.10.1",
    });
  });

  it('names every artifact the Release lacks for the host\'s platform', () => {
    let error: unknown;
    try {
      installPlan(input({ platform: 'linux/arm64', components: { ...components, 'kube-proxy': 'outpost.local/kube-proxy:v1.34.4' } }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArtifactsMissingError);
    const e = error as ArtifactsMissingError;
    // kubelet exists for arm64; the others do not. Images are platform-free here.
    expect(e.missing).toEqual(['binary kubeadm', 'binary kubectl', 'cni bridge', 'cni host-local', 'cni loopback', 'cni portmap', 'image outpost.local/kube-proxy:v1.34.4']);
    expect(e.message).toContain('Release 1.34.4 has no artifact for linux/arm64 of binary kubeadm');
    expect(() => installPlan(input({ aliases: [{ component: 'pause', source: 'outpost.local/pause:other', target: 'x/pause:1' }] }))).toThrow(/image outpost.local\/pause:other/);
  });

  it('refuses artifact names that would leave their directory, and digests that are not sha256', () => {
    for (const name of ['../../etc/cron.d/x', '.hidden', '-rf', 'kube adm', 'a/b']) {
      expect(() => installPlan(input({ artifacts: [...artifacts, bin(name, '5')] }))).toThrow(SiteReleaseError);
    }
    expect(() => installPlan(input({ artifacts: [...artifacts, { ...bin('x', '5'), digest: 'md5:abc' }] }))).toThrow(/not sha256/);
    expect(() => installPlan(input({ platform: 'amd64' }))).toThrow(/linux\/amd64/);
  });

  it('quotes a hostile image reference in every command it appears in', () => {
    const ref = "outpost.local/x:$(reboot)'`id`";
    const plan = installPlan(input({ components: { ...components, coredns: ref }, artifacts: [...artifacts, img(ref, '7')] }));
    const s = upload(plan.images.find((i) => i.id === `image/sha256:${hex('7')}`));
    const quoted = `'outpost.local/x:$(reboot)'\\''\`id\`'`;
    expect(s.skipIf).toBe(`ctr -n k8s.io images ls -q | grep -Fxq -- ${quoted}`);
    expect(s.run).toContain(`|| { echo 'the archive sha256:${hex('7')} does not hold outpost.local/x:$(reboot)'\\''\`id\`, which`);
    expect(s.run).toContain(`grep -Fxq -- ${quoted} ||`);
  });
});
