// What a seed cluster looks like on this machine, as pure data: names, addresses and ranges from its
// slot, and the text of every configuration file its components read. No I/O here, so the layout of
// two side-by-side seeds can be checked without starting one.
import { stringify } from 'yaml';

/** Every seed's node namespace is named this plus its slot; teardown looks for them too. */
export const SEED_NETNS_PREFIX = 'opseed-';

export interface SeedLayout {
  slot: number;
  dir: string;
  /** The node's network namespace (`ip netns`). */
  netns: string;
  /** The root namespace's end of the node's veth. */
  hostVeth: string;
  /** The root namespace's address on that veth: the API server listens here, and the node routes through it. */
  gateway: string;
  nodeIp: string;
  nodeName: string;
  podCidr: string;
  serviceCidr: string;
  /** The first address of the service range: the `kubernetes` Service. */
  apiServiceIp: string;
  /** The cgroup (under every v1 controller) that holds the node's pods. */
  cgroupRoot: string;
}

export interface SeedPorts {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
  kubelet: number;
}

/** Slots keep side-by-side seeds apart: 10.214.<slot>.0/24 node link, 10.244.<slot>.0/24 pods, 10.96.<slot>.0/24 services. */
export function seedLayout(slot: number, dir: string): SeedLayout {
  if (!Number.isInteger(slot) || slot < 1 || slot > 250) throw new RangeError(`seed slot ${slot} is outside 1..250`);
  return {
    slot,
    dir,
    netns: `${SEED_NETNS_PREFIX}${slot}`,
    hostVeth: `opsv${slot}`,
    gateway: `10.214.${slot}.1`,
    nodeIp: `10.214.${slot}.2`,
    nodeName: `seed-${slot}`,
    podCidr: `10.244.${slot}.0/24`,
    serviceCidr: `10.96.${slot}.0/24`,
    apiServiceIp: `10.96.${slot}.1`,
    cgroupRoot: `outpost-seed-${slot}`,
  };
}

/** The lowest slot whose namespace is not in `ip netns list` output. */
export function freeSlot(netnsList: string): number {
  const taken = new Set(netnsList.split('\n').map((l) => l.split(' ')[0]));
  for (let slot = 1; slot <= 250; slot++) if (!taken.has(`${SEED_NETNS_PREFIX}${slot}`)) return slot;
  throw new Error('no free seed slot: stop other seed clusters (`ip netns list | grep opseed`, `npm run world -- down --dir DIR`)');
}

export interface ContainerdPaths {
  root: string;
  state: string;
  socket: string;
  cniBinDir: string;
  cniConfDir: string;
  sandboxImage: string;
  runcRoot: string;
}

export function containerdConfig(p: ContainerdPaths): string {
  return [
    'version = 2',
    `root = "${p.root}"`,
    `state = "${p.state}"`,
    '[grpc]',
    `  address = "${p.socket}"`,
    // Its own ttrpc and debug sockets would otherwise collide with another containerd's defaults.
    '[ttrpc]',
    `  address = "${p.socket}.ttrpc"`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${p.sandboxImage}"`,
    // This sandbox has no CAP_SYS_RESOURCE, so no process may lower its oom_score_adj; kubelet asks -998
    // for sandboxes and -997 for Guaranteed pods. Clamp them to containerd's own instead of failing runc.
    '  restrict_oom_score_adj = true',
    '  netns_mounts_under_state_dir = true',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    `    bin_dir = "${p.cniBinDir}"`,
    `    conf_dir = "${p.cniConfDir}"`,
    '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '    runtime_type = "io.containerd.runc.v2"',
    '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
    // runc's own state, apart from any other containerd's on this machine
    `      Root = "${p.runcRoot}"`,
    '',
  ].join('\n');
}

/** A bridge network for the node's pods; masqueraded, so pods reach the test hosts and loopback-free addresses through the node. */
export function cniConflist(layout: SeedLayout, ipamDir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: `seed-${layout.slot}`,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet: layout.podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeletPaths {
  containerdSocket: string;
  /** Pod logs in the seed's own directory, not the machine's /var/log/pods. */
  podLogsDir: string;
  certFile: string;
  keyFile: string;
  clientCaFile: string;
}

export function kubeletConfig(layout: SeedLayout, port: number, p: KubeletPaths): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${layout.cgroupRoot}`,
    // This machine mounts only cgroup v1 controllers; 1.34 still runs there when told to.
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    address: layout.nodeIp,
    port,
    readOnlyPort: 0,
    healthzPort: 0,
    tlsCertFile: p.certFile,
    tlsPrivateKeyFile: p.keyFile,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: p.clientCaFile } },
    authorization: { mode: 'Webhook' },
    clusterDomain: 'cluster.local',
    // A test machine's disk and memory are shared with everything else: never evict for pressure, never GC images.
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    resolvConf: '/etc/resolv.conf',
    localStorageCapacityIsolation: false,
    nodeStatusReportFrequency: '10s',
    podLogsDir: p.podLogsDir,
    // Lowering oom_score_adj needs CAP_SYS_RESOURCE, which this sandbox does not have.
    oomScoreAdj: 0,
  });
}

export function kubeProxyConfig(layout: SeedLayout, kubeconfigPath: string): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: kubeconfigPath },
    mode: 'iptables',
    clusterCIDR: layout.podCidr,
    hostnameOverride: layout.nodeName,
    healthzBindAddress: '',
    metricsBindAddress: '',
    // The node namespace cannot set the machine-wide conntrack table size.
    conntrack: { maxPerCore: 0 },
    oomScoreAdj: 0,
  });
}

/** SANs of the API server's serving certificate: its own address, loopback, and the in-cluster names. */
export function apiServerSans(layout: SeedLayout): string[] {
  return [layout.gateway, '127.0.0.1', layout.apiServiceIp, 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
}
