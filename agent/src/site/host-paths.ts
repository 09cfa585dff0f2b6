// Where things go on a site host. The defaults are the paths kubeadm's own packages and the CNI and
// containerd projects use, so a host set up by Outpost reads like any kubeadm host; a caller may move
// the ones that can move (a test world whose hosts share one filesystem does). kubeadm's own paths
// (/etc/kubernetes, /var/lib/kubelet) are fixed by kubeadm and not listed here.
import { SiteInputError } from './errors.js';

export interface HostPaths {
  /** kubeadm, kubelet, kubectl and other binaries of the Release. Default /usr/local/bin. */
  binDir: string;
  /** The CNI plugins. Default /opt/cni/bin (containerd's default, so its config need not say it). */
  cniBinDir: string;
  /** The CNI network config. Default /etc/cni/net.d (containerd's default). */
  cniConfDir: string;
  /** systemd units Outpost writes. Default /etc/systemd/system. */
  systemdDir: string;
  /** containerd's config. Default /etc/containerd/config.toml. */
  containerdConfig: string;
  /** Where uploads wait until their digest is checked (image archives; binaries are staged beside their target). Default /var/lib/outpost/staging. */
  stagingDir: string;
}

export const DEFAULT_HOST_PATHS: Readonly<HostPaths> = {
  binDir: '/usr/local/bin',
  cniBinDir: '/opt/cni/bin',
  cniConfDir: '/etc/cni/net.d',
  systemdDir: '/etc/systemd/system',
  containerdConfig: '/etc/containerd/config.toml',
  stagingDir: '/var/lib/outpost/staging',
};

/** `overrides` over the defaults; SiteInputError when a path is not absolute or holds a character a unit file or a command line would mangle. */
export function hostPaths(overrides: Partial<HostPaths> = {}): HostPaths {
  const paths = { ...DEFAULT_HOST_PATHS, ...overrides };
  for (const [field, p] of Object.entries(paths)) {
    if (!p.startsWith('/') || /[\s\\"'$%`;\0]/.test(p) || p.split('/').includes('..')) throw new SiteInputError(`paths.${field}`, `"${p}" must be an absolute path without "..", whitespace, quotes, "\\", "$", "%", "\`" or ";"`);
  }
  return paths;
}
