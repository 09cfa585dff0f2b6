// The files a site host gets besides the binaries. containerd itself loads containerdConfigToml's output
// in test/e2e/site-generators.test.ts; here, what each file must say.
import { describe, expect, it } from 'vitest';
import type { ClusterKeys } from '@outpost/proto';
import { SiteInputError } from './errors.js';
import { containerdConfigFile, containerdConfigToml, containerdConfigVersion, containerdUnit, kernelSettingsCommands, kernelSettingsFiles, kubeletKubeadmDropIn, kubeletUnit, pkiFiles } from './host-files.js';
import { hostPaths } from './host-paths.js';

const paths = hostPaths();

describe('containerd', () => {
  it('reads the config format from `containerd --version`: 2 for 1.6 and 1.7, 3 for 2.x', () => {
    expect(containerdConfigVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3')).toBe(2);
    expect(containerdConfigVersion('containerd containerd.io 1.7.24 88bf19b2105c8b17560993bee28a01ddc2f97182')).toBe(2);
    expect(containerdConfigVersion('containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7193e4e490e9fbdc236c0e811ccaba3376')).toBe(3);
    expect(() => containerdConfigVersion('containerd github.com/containerd/containerd v1.5.9 1407cab')).toThrow(/1\.6, 1\.7 or 2\.x/);
    expect(() => containerdConfigVersion('sh: containerd: not found')).toThrow(SiteInputError);
  });

  it('pins the sandbox image and the cgroup driver in the format of each version, and nothing about registries', () => {
    const v2 = containerdConfigToml({ version: 2, sandboxImage: 'outpost.local/pause:test', systemdCgroup: true });
    expect(v2).toMatch(/^version = 2$/m);
    expect(v2).toContain('[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "outpost.local/pause:test"');
    expect(v2).toContain('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true');
    const v3 = containerdConfigToml({ version: 3, sandboxImage: 'outpost.local/pause:test', systemdCgroup: false });
    expect(v3).toMatch(/^version = 3$/m);
    expect(v3).toContain('[plugins."io.containerd.cri.v1.images".pinned_images]\n  sandbox = "outpost.local/pause:test"');
    expect(v3).toContain('[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]\n  SystemdCgroup = false');
    for (const t of [v2, v3]) expect(t).not.toMatch(/registry|mirror|config_path/);
    expect(containerdConfigFile(paths, { version: 2, sandboxImage: 'p:1', systemdCgroup: true })).toMatchObject({ path: '/etc/containerd/config.toml', mode: 0o644 });
  });

  it('refuses a sandbox image that would break out of its TOML string', () => {
    expect(() => containerdConfigToml({ version: 2, sandboxImage: 'p:1"\n[x]', systemdCgroup: true })).toThrow(SiteInputError);
  });

  it('writes containerd\'s unit for a containerd the Release brings', () => {
    const u = containerdUnit(paths);
    expect(u.path).toBe('/etc/systemd/system/containerd.service');
    expect(u.content).toContain('ExecStart=/usr/local/bin/containerd --config /etc/containerd/config.toml\n');
    expect(u.content).toContain('Delegate=yes\nKillMode=process\n');
    expect(containerdUnit(paths, '/usr/bin/containerd').content).toContain('ExecStart=/usr/bin/containerd ');
  });
});

describe('kubelet units', () => {
  it('runs kubelet from binDir and restarts it until kubeadm has configured it', () => {
    const u = kubeletUnit(paths);
    expect(u.path).toBe('/etc/systemd/system/kubelet.service');
    expect(u.content).toContain('ExecStart=/usr/local/bin/kubelet\nRestart=always\nStartLimitInterval=0\nRestartSec=10\n');
  });

  it('has kubeadm\'s drop-in: ExecStart reset, then kubelet with kubeadm\'s kubeconfigs, config and flags files', () => {
    const d = kubeletKubeadmDropIn(hostPaths({ binDir: '/opt/k/bin' }));
    expect(d.path).toBe('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf');
    const lines = d.content.split('\n');
    expect(lines).toContain('Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"');
    expect(lines).toContain('Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"');
    expect(lines).toContain('EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env');
    expect(lines).toContain('EnvironmentFile=-/etc/default/kubelet');
    const reset = lines.indexOf('ExecStart=');
    expect(reset).toBeGreaterThan(0);
    expect(lines[reset + 1]).toBe('ExecStart=/opt/k/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS');
  });

  it('refuses a path a unit file or command line would mangle', () => {
    expect(() => hostPaths({ binDir: '/opt/my bin' })).toThrow(/paths.binDir/);
    expect(() => hostPaths({ stagingDir: 'relative' })).toThrow(/absolute/);
    expect(() => hostPaths({ cniBinDir: '/opt/../etc' })).toThrow(SiteInputError);
  });
});

describe('kernel settings', () => {
  it('loads overlay and br_netfilter, and turns on forwarding and bridge netfilter, at boot and now', () => {
    const [modules, sysctl] = kernelSettingsFiles();
    expect(modules?.content.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['overlay', 'br_netfilter']);
    expect(sysctl?.content).toContain('net.ipv4.ip_forward = 1\n');
    expect(sysctl?.content).toContain('net.bridge.bridge-nf-call-iptables = 1\n');
    expect(kernelSettingsCommands()).toEqual([
      "modprobe overlay 2>/dev/null || test -d /sys/module/overlay || { echo 'the kernel module overlay is not loaded and cannot be (containerd needs it): load it on the host' >&2; exit 1; }",
      'modprobe br_netfilter 2>/dev/null || test -d /sys/module/br_netfilter || true',
      'sysctl -w net.ipv4.ip_forward=1',
      'if [ -d /proc/sys/net/bridge ]; then sysctl -w net.bridge.bridge-nf-call-iptables=1 && sysctl -w net.bridge.bridge-nf-call-ip6tables=1; fi',
    ]);
  });
});

describe('pkiFiles', () => {
  const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----`;
  const keys: ClusterKeys = {
    ca: { certPem: pem('CERTIFICATE'), keyPem: pem('PRIVATE KEY') },
    frontProxyCa: { certPem: pem('CERTIFICATE'), keyPem: pem('PRIVATE KEY') },
    etcdCa: { certPem: pem('CERTIFICATE'), keyPem: pem('PRIVATE KEY') },
    serviceAccount: { publicKeyPem: pem('PUBLIC KEY'), privateKeyPem: pem('PRIVATE KEY') },
  };

  it('puts the hub\'s CAs and service-account key where kubeadm looks, keys readable by root only', () => {
    const files = pkiFiles(keys);
    expect(files.map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['/etc/kubernetes/pki/ca.crt', '644'],
      ['/etc/kubernetes/pki/ca.key', '600'],
      ['/etc/kubernetes/pki/front-proxy-ca.crt', '644'],
      ['/etc/kubernetes/pki/front-proxy-ca.key', '600'],
      ['/etc/kubernetes/pki/etcd/ca.crt', '644'],
      ['/etc/kubernetes/pki/etcd/ca.key', '600'],
      ['/etc/kubernetes/pki/sa.pub', '644'],
      ['/etc/kubernetes/pki/sa.key', '600'],
    ]);
    expect(files[0]?.content).toBe(`${pem('CERTIFICATE')}\n`);
  });

  it('refuses keys the hub delivered incomplete, naming what is missing', () => {
    expect(() => pkiFiles({ ...keys, etcdCa: { certPem: pem('CERTIFICATE'), keyPem: '' } })).toThrow(/lack etcd\/ca\.key/);
  });
});
