// The files a site host needs besides the Release's binaries and the kubeadm config: containerd's config,
// the systemd units of containerd and kubelet (kubelet's as kubeadm's own packages write it), the kernel
// settings kubelet and the pod network need, and the cluster's CAs where kubeadm looks for them. Pure:
// each is a path, a mode and the exact content, for the flow to upload and compare.
import type { ClusterKeys } from '@outpost/proto';
import { SiteInputError } from './errors.js';
import type { HostPaths } from './host-paths.js';
import type { ShellCommand } from './shell-command.js';
import { shJoin } from './ssh/shell-quote.js';

export interface HostFile {
  /** Absolute path on the host. */
  path: string;
  content: string;
  /** Octal permission bits, such as 0o644. */
  mode: number;
}

/** containerd's config file format: 2 for containerd 1.x, 3 for 2.x (whose CRI plugin was split and renamed). */
export type ContainerdConfigVersion = 2 | 3;

/**
 * The config format of the containerd that printed `output` (`containerd --version`, such as
 * "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"), or SiteInputError
 * for a containerd too old to serve kubelet's CRI v1 (before 1.6) or an output that names no version.
 */
export function containerdConfigVersion(output: string): ContainerdConfigVersion {
  const m = /\s+v?(\d+)\.(\d+)\.\d+/.exec(output);
  if (!m) throw new SiteInputError('containerd --version', `"${output.trim()}" names no containerd version; is containerd installed on the host?`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major === 1 && minor >= 6) return 2;
  if (major === 2) return 3;
  throw new SiteInputError('containerd --version', `containerd ${major}.${minor} cannot run this cluster: kubelet needs containerd 1.6, 1.7 or 2.x (CRI v1); install one of those, or put one in the Release`);
}

export interface ContainerdConfigInputs {
  version: ContainerdConfigVersion;
  /** The Release's pause: the pod sandbox image every pod starts with. */
  sandboxImage: string;
  /** true when kubelet's cgroupDriver is systemd: both must agree, or pods fail to start. */
  systemdCgroup: boolean;
  /**
   * Clamp the oom_score_adj kubelet asks for pods to containerd's own, for a host whose root cannot lower
   * it (no CAP_SYS_RESOURCE: a host that is a container); runc fails every pod there otherwise.
   */
  restrictOomScoreAdj?: boolean;
}

/**
 * containerd's config.toml. Only what differs from containerd's defaults: the sandbox image pinned to the
 * Release's (the default would be a registry.k8s.io pull, which an air-gapped host cannot make) and the
 * cgroup driver. No registry mirrors and no config_path: every image is imported before kubelet asks.
 * The CNI directories are containerd's defaults (/opt/cni/bin, /etc/cni/net.d).
 */
export function containerdConfigToml(input: ContainerdConfigInputs): HostFile['content'] {
  // A reference is printable ASCII; JSON's string escapes are then also TOML's.
  if (!/^[\x21-\x7e]+$/.test(input.sandboxImage)) throw new SiteInputError('sandboxImage', `"${input.sandboxImage}" is not an image reference`);
  const image = JSON.stringify(input.sandboxImage);
  const cgroup = String(input.systemdCgroup);
  const header = '# Written by Outpost: the pod sandbox is the Release\'s pause image; images are imported, never pulled.\n';
  if (input.version === 2) {
    const cri = '[plugins."io.containerd.grpc.v1.cri"';
    return `${header}version = 2

${cri}]
  sandbox_image = ${image}
  # Pods' network namespaces under containerd's own state, not the machine-wide /run/netns.
  netns_mounts_under_state_dir = true${input.restrictOomScoreAdj ? '\n  restrict_oom_score_adj = true' : ''}

${cri}.containerd]
  default_runtime_name = "runc"

${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = ${cgroup}
`;
  }
  return `${header}version = 3

[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = ${image}

[plugins."io.containerd.cri.v1.runtime"]${input.restrictOomScoreAdj ? '\n  restrict_oom_score_adj = true' : ''}

[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = ${cgroup}
`;
}

/** containerd's config file at its path (mode 0644). */
export function containerdConfigFile(paths: HostPaths, input: ContainerdConfigInputs): HostFile {
  return { path: paths.containerdConfig, content: containerdConfigToml(input), mode: 0o644 };
}

/**
 * containerd.service as containerd's release ships it. Only for a containerd the Release brings (in
 * binDir); a distribution's package (Debian's containerd) brings its own unit, which is left alone.
 */
export function containerdUnit(paths: HostPaths, containerdBinary = `${paths.binDir}/containerd`): HostFile {
  return {
    path: `${paths.systemdDir}/containerd.service`,
    mode: 0o644,
    content: `# Written by Outpost (containerd's upstream unit).
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${containerdBinary} --config ${paths.containerdConfig}
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`,
  };
}

/** kubelet.service as kubeadm's packages write it (kubernetes/release): kubelet restarts until kubeadm has written its config. */
export function kubeletUnit(paths: HostPaths): HostFile {
  return {
    path: `${paths.systemdDir}/kubelet.service`,
    mode: 0o644,
    content: `# Written by Outpost (kubeadm's packaged unit).
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=${paths.binDir}/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`,
  };
}

/**
 * kubeadm's drop-in for kubelet.service, as its packages write it: the kubeconfigs and config file
 * kubeadm makes, the flags kubeadm init/join write to kubeadm-flags.env, and /etc/default/kubelet for an
 * operator's last-resort flags. The empty ExecStart= resets the unit's own before the new one.
 */
export function kubeletKubeadmDropIn(paths: HostPaths): HostFile {
  return {
    path: `${paths.systemdDir}/kubelet.service.d/10-kubeadm.conf`,
    mode: 0o644,
    content: `# Written by Outpost (kubeadm's packaged drop-in).
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# kubeadm init and kubeadm join write this file, setting KUBELET_KUBEADM_ARGS.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# An operator's overrides of kubelet's flags, as a last resort: KUBELET_EXTRA_ARGS.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=${paths.binDir}/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`,
  };
}

/** The kernel modules kubelet, containerd and the bridge network need: overlay (containerd's snapshotter), br_netfilter (iptables sees bridged pod traffic, so Services work between pods on one node). */
export const KERNEL_MODULES = ['overlay', 'br_netfilter'] as const;

/** The sysctls kubeadm's preflight checks and the pod network need. */
export const SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

/** The modules and sysctls as files, so they hold after a reboot. */
export function kernelSettingsFiles(): HostFile[] {
  return [
    { path: '/etc/modules-load.d/outpost-kubernetes.conf', mode: 0o644, content: `# Written by Outpost: loaded at boot for kubelet and the pod network.\n${KERNEL_MODULES.join('\n')}\n` },
    {
      path: '/etc/sysctl.d/99-outpost-kubernetes.conf',
      mode: 0o644,
      content: `# Written by Outpost: what kubeadm's preflight checks and the pod network need.\n${Object.entries(SYSCTLS).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`,
    },
  ];
}

/**
 * The commands that apply kernelSettingsFiles() now, without a reboot (each idempotent). A module that is
 * loaded (or built in) already needs no modprobe: a container host or a minimal image may have none.
 * overlay is required (containerd's snapshotter); without br_netfilter, bridged pod traffic skips
 * iptables (Services between pods on one node), which kubeadm's preflight reports, so its sysctls are set
 * only where the module is there. Forwarding is required.
 */
export function kernelSettingsCommands(): ShellCommand[] {
  const load = (m: string) => `modprobe ${m} 2>/dev/null || test -d /sys/module/${m}`;
  const sysctl = ([k, v]: [string, string]) => shJoin(['sysctl', '-w', `${k}=${v}`]);
  const bridge = Object.entries(SYSCTLS).filter(([k]) => k.startsWith('net.bridge.'));
  return [
    `${load('overlay')} || { echo 'the kernel module overlay is not loaded and cannot be (containerd needs it): load it on the host' >&2; exit 1; }`,
    `${load('br_netfilter')} || true`,
    ...Object.entries(SYSCTLS).filter(([k]) => !k.startsWith('net.bridge.')).map(sysctl),
    `if [ -d /proc/sys/net/bridge ]; then ${bridge.map(sysctl).join(' && ')}; fi`,
  ];
}

/** Where kubeadm finds the cluster's CAs. Fixed by kubeadm (ClusterConfiguration.certificatesDir's default). */
export const KUBEADM_PKI_DIR = '/etc/kubernetes/pki';

/**
 * The hub's CAs and service-account key where kubeadm looks for them, written before `kubeadm init` (and
 * before a control-plane join that does not fetch uploaded certificates): kubeadm, finding a CA's key,
 * signs that CA's leaves with it and makes no CA of its own. Keys 0600, certificates 0644.
 */
export function pkiFiles(keys: ClusterKeys): HostFile[] {
  const files: Array<[string, string | undefined, number]> = [
    ['ca.crt', keys.ca?.certPem, 0o644],
    ['ca.key', keys.ca?.keyPem, 0o600],
    ['front-proxy-ca.crt', keys.frontProxyCa?.certPem, 0o644],
    ['front-proxy-ca.key', keys.frontProxyCa?.keyPem, 0o600],
    ['etcd/ca.crt', keys.etcdCa?.certPem, 0o644],
    ['etcd/ca.key', keys.etcdCa?.keyPem, 0o600],
    ['sa.pub', keys.serviceAccount?.publicKeyPem, 0o644],
    ['sa.key', keys.serviceAccount?.privateKeyPem, 0o600],
  ];
  const empty = files.filter(([, pem]) => !pem?.includes('-----BEGIN ')).map(([name]) => name);
  if (empty.length) throw new SiteInputError('clusterKeys', `the hub's keys lack ${empty.join(', ')}; the agent asks the hub again (if this stays, the Cluster's keys at the hub are damaged)`);
  return files.map(([name, pem, mode]) => ({ path: `${KUBEADM_PKI_DIR}/${name}`, content: pem!.endsWith('\n') ? pem! : `${pem!}\n`, mode }));
}
