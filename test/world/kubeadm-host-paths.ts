// Names both a kubeadm host's world (kubeadm-hosts.ts) and every world's teardown (world-state.ts) need:
// which paths a host keeps to itself, and how its network namespaces are named.

/**
 * The network namespaces of kubeadm hosts. While one exists, nothing may rmdir the machine's
 * PRIVATE_PATHS: they are mount points in that host's mount namespace, and Linux lets a directory that is
 * a mount point only in another namespace be removed, silently detaching the host's private mount there.
 */
export const KUBEADM_HOST_NETNS_PREFIX = 'opk-';

/**
 * What a host keeps to itself: every directory kubeadm (init/join/reset/upgrade), kubelet, containerd and
 * the CNI plugins write, and where an installer puts binaries, units, and system configuration.
 */
export const PRIVATE_PATHS = [
  '/etc/kubernetes',
  '/etc/containerd',
  '/etc/cni',
  '/etc/systemd/system',
  '/etc/default', // EnvironmentFile=-/etc/default/kubelet
  '/etc/sysctl.d',
  '/etc/modules-load.d',
  '/var/lib/kubelet',
  '/var/lib/etcd',
  '/var/lib/containerd',
  '/var/lib/cni', // host-local IPAM and libcni's cache
  '/var/log/pods',
  '/var/log/containers',
  '/run/containerd', // its socket, runc's state, the shims' sockets
  '/run/systemd', // its system/ (runtime units) and notify/ (sd_notify sockets of Type=notify services)
  // Pod network namespaces that containerd names here (a bind mount on an empty file) would otherwise leave
  // those files on the machine; and the host holds no copies of the machine's other namespaces.
  '/run/netns',
  '/opt/cni/bin',
  '/usr/local/bin',
  '/root/.kube',
  '/var/lib/outpost', // the site agent's staging and kubeadm configs
] as const;
