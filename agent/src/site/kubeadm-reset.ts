// What deleting a kubeadm Cluster runs on each of its hosts: `kubeadm reset`, then everything Outpost put
// there taken away again (services, containers, pod routes and the egress rule, state and config, the
// Release's binaries), so the host is as it was before. One POSIX script, idempotent: a run cut off by a
// dropped connection is simply run again. Pure: the text of the script.
import { REQUIRED_BINARIES, REQUIRED_CNI_PLUGINS } from '@outpost/proto';
import { bridgeCniConfig, podEgressCommands, podNetworkScript, podNetworkUnit } from './pod-network.js';
import { containerdUnit, kernelSettingsFiles, kubeletKubeadmDropIn, kubeletUnit } from './host-files.js';
import { hostPaths, type HostPaths } from './host-paths.js';
import { shJoin, shQuote } from './ssh/shell-quote.js';

/** containerd binaries a Release may bring into binDir (the host's own, in /usr/bin, are left alone). */
const RUNTIME_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'];

/** Empties `dir` and removes it; a directory that is a mount point itself stays, empty. */
const wipe = (dir: string): string => `rm -rf ${shQuote(dir)}/* ${shQuote(dir)}/.[!.]* 2>/dev/null; rmdir ${shQuote(dir)} 2>/dev/null`;

export function resetScript(clusterPodCidr: string, paths: HostPaths = hostPaths()): string {
  const bin = (n: string) => `${paths.binDir}/${n}`;
  const network = podNetworkScript(paths, 'self', [{ name: 'self', address: '127.0.0.1', podCidr: clusterPodCidr }], clusterPodCidr);
  // The egress rule as podEgressCommands adds it ("-C ... || -A ..."), deleted while it is there.
  const egress = podEgressCommands(clusterPodCidr)[0]!.split(' || ')[0]!.replace(/ 2>\/dev\/null$/, '');
  const units = [kubeletUnit(paths), containerdUnit(paths), podNetworkUnit(paths)].map((u) => u.path);
  const files = [
    ...units,
    kubeletKubeadmDropIn(paths).path,
    bridgeCniConfig(paths, { nodePodCidr: clusterPodCidr, clusterPodCidr }).path,
    paths.containerdConfig,
    ...kernelSettingsFiles().map((f) => f.path),
    ...[...REQUIRED_BINARIES, ...RUNTIME_BINARIES].map(bin),
    ...REQUIRED_CNI_PLUGINS.map((p) => `${paths.cniBinDir}/${p}`),
  ];
  return [
    'set -u',
    // kubeadm stops kubelet, removes the cluster's containers through the CRI, unmounts kubelet's volumes
    // and removes its own files; it is run only where Outpost installed it.
    `if [ -x ${shQuote(bin('kubeadm'))} ]; then ${shQuote(bin('kubeadm'))} reset -f >/dev/null 2>&1 || true; fi`,
    'systemctl stop kubelet 2>/dev/null; systemctl disable kubelet 2>/dev/null',
    // Whatever containers are left are killed through this host's containerd, never by process name:
    // another host's (or the machine's own) may look the same.
    'if command -v ctr >/dev/null 2>&1 && ctr version >/dev/null 2>&1; then',
    '  for t in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks kill -s SIGKILL "$t" >/dev/null 2>&1; done',
    '  sleep 1',
    '  for t in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks delete -f "$t" >/dev/null 2>&1; done',
    '  for c in $(ctr -n k8s.io containers ls -q 2>/dev/null); do ctr -n k8s.io containers delete "$c" >/dev/null 2>&1; done',
    'fi',
    'systemctl stop containerd 2>/dev/null; systemctl disable containerd 2>/dev/null',
    'systemctl disable outpost-pod-network 2>/dev/null',
    // The routes to other nodes' pods, as the boot script wrote them.
    `if [ -f ${shQuote(network.path)} ]; then sed -n 's/^ip route replace \\([^ ]*\\) via .*/\\1/p' ${shQuote(network.path)} | while read -r c; do ip route del "$c" 2>/dev/null; done; fi`,
    `while ${egress} 2>/dev/null; do ${egress.replace(' -C ', ' -D ')}; done`,
    'ip link del cni0 2>/dev/null',
    // Mounts kubelet and containerd made and left (deepest first), so the state below can go.
    `for m in $(awk '$2 ~ "^/var/lib/kubelet/" || $2 ~ "^/run/containerd/" {print $2}' /proc/mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done`,
    `rm -rf ${shJoin([...files, network.path, `${paths.systemdDir}/kubelet.service.d`])}`,
    'systemctl daemon-reload 2>/dev/null',
    ...['/etc/kubernetes', '/var/lib/kubelet', '/var/lib/etcd', '/var/lib/cni', '/var/lib/containerd', '/run/containerd', '/var/lib/outpost'].map(wipe),
    // The cleanup above goes on past what fails; whether it did its job is judged here.
    "if systemctl is-active --quiet kubelet 2>/dev/null || systemctl is-active --quiet containerd 2>/dev/null; then echo 'kubelet or containerd still runs after the reset' >&2; exit 1; fi",
    "if [ -e /etc/kubernetes/kubelet.conf ] || [ -e /etc/kubernetes/admin.conf ]; then echo '/etc/kubernetes still holds a kubeconfig after the reset' >&2; exit 1; fi",
  ].join('\n');
}
