// Outpost's `network.cni: bridge`: each node's pods on a Linux bridge with addresses from the node's own
// slice of the cluster's pod CIDR (host-local IPAM), and a static route on every node to every other
// node's slice through that node's address. It needs the CNI plugins the Release always carries
// (bridge, host-local, loopback, portmap) and nodes that reach each other directly (one L2 segment, or a
// routed network that forwards to node addresses); no overlay, no daemon. Pure.
//
// The slices are Outpost's, not the controller manager's (kubeadm-config.ts turns its allocation off):
// a node's routes must be known before the node registers, and a slice, once given, must stay put.
import { SiteInputError } from './errors.js';
import type { HostFile } from './host-files.js';
import type { HostPaths } from './host-paths.js';
import type { ShellCommand } from './shell-command.js';
import { shJoin } from './ssh/shell-quote.js';

/** The CNI network's name, and the bridge device on each node. */
export const POD_NETWORK_NAME = 'outpost';
export const POD_BRIDGE = 'cni0';
export const DEFAULT_NODE_PREFIX = 24;

interface Ipv4Cidr {
  base: number;
  prefix: number;
}

function parseIpv4(field: string, ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new SiteInputError(field, `"${ip}" is not an IPv4 address (the bridge network is IPv4 only)`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function parseCidr(field: string, cidr: string): Ipv4Cidr {
  const [ip, bits, ...rest] = cidr.split('/');
  const prefix = Number(bits);
  if (rest.length || !/^\d{1,2}$/.test(bits ?? '') || prefix > 32) throw new SiteInputError(field, `"${cidr}" is not an IPv4 CIDR such as 10.244.0.0/16`);
  const base = parseIpv4(field, ip ?? '');
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new SiteInputError(field, `"${cidr}" has host bits set; write its network address, ${formatIpv4(base - (base % size))}/${prefix}`);
  return { base, prefix };
}

function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

const formatCidr = (c: Ipv4Cidr) => `${formatIpv4(c.base)}/${c.prefix}`;

export interface PodCidrAssignmentInputs {
  /** The cluster's pod CIDR (ClusterNetwork.podCidr), such as 10.244.0.0/16. */
  clusterPodCidr: string;
  /** The size of each node's slice; default /24 (254 pods, kubelet's 110-pod default fits). */
  nodePrefix?: number;
  /** The slices already given (kept in the agent's state): node name -> CIDR. These never move. */
  assigned: Readonly<Record<string, string>>;
  /** Every node of the cluster, in any order. */
  nodes: readonly string[];
}

/**
 * Every node's pod CIDR: the ones already given stay, each new node gets the lowest free slice. Slices of
 * nodes no longer listed are freed. SiteInputError when an assigned slice lies outside the cluster's
 * CIDR or the CIDR has no room left.
 */
export function assignPodCidrs(input: PodCidrAssignmentInputs): Record<string, string> {
  const cluster = parseCidr('clusterPodCidr', input.clusterPodCidr);
  const prefix = input.nodePrefix ?? DEFAULT_NODE_PREFIX;
  if (!Number.isInteger(prefix) || prefix < cluster.prefix || prefix > 30) throw new SiteInputError('nodePrefix', `/${prefix} does not fit in ${input.clusterPodCidr}: use a prefix between /${cluster.prefix} and /30`);
  const size = 2 ** (32 - prefix);
  const slots = 2 ** (prefix - cluster.prefix);
  const out: Record<string, string> = {};
  const used = new Set<number>();
  const listed = new Set(input.nodes);
  for (const [node, cidr] of Object.entries(input.assigned)) {
    if (!listed.has(node)) continue;
    const c = parseCidr(`assigned.${node}`, cidr);
    const slot = (c.base - cluster.base) / size;
    if (c.prefix !== prefix || slot < 0 || slot >= slots || !Number.isInteger(slot)) throw new SiteInputError(`assigned.${node}`, `${cidr} is not a /${prefix} slice of ${input.clusterPodCidr}; the cluster's pod CIDR cannot change under running nodes`);
    if (used.has(slot)) throw new SiteInputError(`assigned.${node}`, `${cidr} is given to two nodes`);
    used.add(slot);
    out[node] = cidr;
  }
  let next = 0;
  for (const node of [...input.nodes].sort()) {
    if (out[node]) continue;
    while (used.has(next)) next++;
    if (next >= slots) throw new SiteInputError('clusterPodCidr', `${input.clusterPodCidr} has room for ${slots} nodes of /${prefix}, and the cluster has ${input.nodes.length}: give the cluster a larger pod CIDR`);
    used.add(next);
    out[node] = formatCidr({ base: cluster.base + next * size, prefix });
  }
  return out;
}

export interface BridgeCniInputs {
  /** This node's slice (assignPodCidrs). */
  nodePodCidr: string;
  /** The cluster's pod CIDR: traffic within it is never masqueraded. */
  clusterPodCidr: string;
  /** The bridge's MTU; default the plugin's (the default route's device's). */
  mtu?: number;
}

/**
 * /etc/cni/net.d/10-outpost-bridge.conflist: a bridge with host-local addresses from the node's slice and
 * a default route through the bridge, plus portmap for hostPort. containerd sets up each pod's loopback
 * itself (with the loopback plugin). ipMasq is off: pods reach pods on other nodes unNATed (the
 * Kubernetes network model); podEgressCommands masquerades only what leaves the cluster's pod CIDR.
 */
export function bridgeCniConfig(paths: HostPaths, input: BridgeCniInputs): HostFile {
  const node = parseCidr('nodePodCidr', input.nodePodCidr);
  const cluster = parseCidr('clusterPodCidr', input.clusterPodCidr);
  if (node.prefix < cluster.prefix || Math.floor(node.base / 2 ** (32 - cluster.prefix)) !== cluster.base / 2 ** (32 - cluster.prefix)) throw new SiteInputError('nodePodCidr', `${input.nodePodCidr} is not inside the cluster's pod CIDR ${input.clusterPodCidr}`);
  if (input.mtu !== undefined && (!Number.isInteger(input.mtu) || input.mtu < 576 || input.mtu > 65535)) throw new SiteInputError('mtu', `${input.mtu} is not an MTU (576-65535)`);
  const conf = {
    cniVersion: '1.0.0',
    name: POD_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ...(input.mtu ? { mtu: input.mtu } : {}),
        ipam: { type: 'host-local', ranges: [[{ subnet: formatCidr(node) }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return { path: `${paths.cniConfDir}/10-outpost-bridge.conflist`, mode: 0o644, content: `${JSON.stringify(conf, null, 2)}\n` };
}

export interface PodRouteNode {
  name: string;
  /** The node's address on the network the nodes share. */
  address: string;
  /** Its slice (assignPodCidrs). */
  podCidr: string;
}

/**
 * On node `self`, a route to each other node's slice through that node (`ip route replace`: adds or
 * corrects, so it can run again). Routes do not survive a reboot: podNetworkScript and podNetworkUnit
 * replay them at boot, and the flow runs the script again whenever a node joins or leaves.
 */
export function podRouteCommands(self: string, nodes: readonly PodRouteNode[]): ShellCommand[] {
  if (!nodes.some((n) => n.name === self)) throw new SiteInputError('self', `${self} is not among the cluster's nodes (${nodes.map((n) => n.name).join(', ')})`);
  return nodes
    .filter((n) => n.name !== self)
    .map((n) => {
      parseIpv4(`nodes.${n.name}.address`, n.address);
      return shJoin(['ip', 'route', 'replace', formatCidr(parseCidr(`nodes.${n.name}.podCidr`, n.podCidr)), 'via', n.address]);
    });
}

/**
 * Masquerade what pods send beyond the cluster's pod CIDR (to the site's network, the internet), so
 * replies find their way back; pod-to-pod stays unNATed. Checked first (-C), added only when missing.
 */
export function podEgressCommands(clusterPodCidr: string): ShellCommand[] {
  const cidr = formatCidr(parseCidr('clusterPodCidr', clusterPodCidr));
  const rule = ['POSTROUTING', '-s', cidr, '!', '-d', cidr, '-m', 'comment', '--comment', 'outpost pod egress', '-j', 'MASQUERADE'];
  return [`${shJoin(['iptables', '-t', 'nat', '-C', ...rule])} 2>/dev/null || ${shJoin(['iptables', '-t', 'nat', '-A', ...rule])}`];
}

/** The script that sets node `self`'s pod routes and egress rule (idempotent), run now and at every boot. */
export function podNetworkScript(paths: HostPaths, self: string, nodes: readonly PodRouteNode[], clusterPodCidr: string): HostFile {
  const commands = [...podRouteCommands(self, nodes), ...podEgressCommands(clusterPodCidr)];
  return {
    path: `${paths.binDir}/outpost-pod-network`,
    mode: 0o755,
    content: `#!/bin/sh\n# Written by Outpost: routes to the other nodes' pods, and masquerading of pod traffic that leaves the cluster.\nset -e\n${commands.join('\n')}\n`,
  };
}

/** A oneshot unit that runs podNetworkScript at boot, once the network is up. */
export function podNetworkUnit(paths: HostPaths): HostFile {
  return {
    path: `${paths.systemdDir}/outpost-pod-network.service`,
    mode: 0o644,
    content: `# Written by Outpost: the bridge pod network's routes, which the kernel forgets at reboot.
[Unit]
Description=Outpost pod network routes
Wants=network-online.target
After=network-online.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${paths.binDir}/outpost-pod-network

[Install]
WantedBy=multi-user.target
`,
  };
}
