// The kubeadm configuration files the site agent writes on a host before `kubeadm init` (the first
// control-plane host) and `kubeadm join` (the other control-plane hosts, and static workers), as kubeadm
// v1beta4 YAML, and the argv that runs kubeadm with them. Pure: tokens and keys are inputs (the flow
// derives its token from the cluster CA, kubeadm/join-secrets.ts), so a step run again writes
// the same file.
//
// The cluster's CAs are the hub's (DESIGN.md "Trust"): the flow writes them to /etc/kubernetes/pki
// (host-files.ts, pkiFiles) before kubeadm runs, and kubeadm, finding ca.key there, signs only leaves.
import { isIP } from 'node:net';
import { CA_CERT_HASH_RE } from '@outpost/proto';
import { stringify } from 'yaml';
import { SiteInputError } from './errors.js';
import type { KubeadmImagePlan } from './kubeadm-images.js';

export const KUBEADM_API = 'kubeadm.k8s.io/v1beta4';
export const CONTAINERD_SOCKET = 'unix:///run/containerd/containerd.sock';
export const DEFAULT_BIND_PORT = 6443;
export const DEFAULT_DNS_DOMAIN = 'cluster.local';

export type CgroupDriver = 'systemd' | 'cgroupfs';

export interface KubeletSettings {
  /** Must match containerd's (SystemdCgroup): systemd where systemd is the host's init and cgroup manager. */
  cgroupDriver: CgroupDriver;
  /**
   * Absent: kubelet refuses to start on a host with swap on (its default). NoSwap: it starts, and pods
   * get no swap. LimitedSwap: pods of the Burstable class may swap, in proportion to their memory request.
   */
  swap?: 'NoSwap' | 'LimitedSwap';
  /** kubelet's own oom_score_adj; 0 where root cannot lower it (HostFacts.canLowerOomScore). Default kubelet's, -999. */
  oomScoreAdj?: number;
}

/** What every control-plane host of one cluster shares. */
export interface KubeadmClusterInputs {
  /** ClusterConfiguration.clusterName: the Cluster's name. */
  clusterName: string;
  /** kubeadmImagePlan() of the cluster's Release. */
  images: KubeadmImagePlan;
  /** "host:port" every node and client reaches the API servers at: the first control-plane host, or a VIP / load balancer. */
  controlPlaneEndpoint: string;
  podSubnet: string;
  serviceSubnet: string;
  /** Default cluster.local. */
  dnsDomain?: string;
  /** Extra names and addresses on the API server's certificate (kubeadm adds the node's, the endpoint's and the Service IP itself). */
  certSANs?: readonly string[];
  kubelet: KubeletSettings;
  /**
   * Who gives each node its pod CIDR. "outpost" (the bridge CNI): Outpost assigns them (pod-network.ts)
   * because every node's routes must be known before the node exists, so the controller manager must not
   * hand out different ones. "kube-controller-manager": a CNI that reads Node.spec.podCIDR.
   */
  nodeCidrs?: 'outpost' | 'kube-controller-manager';
}

/** The host kubeadm runs on. */
export interface NodeInputs {
  /** The Node's name: the Host's name (lowercase RFC 1123). */
  name: string;
  /** The address the node is reached at (kubelet's node-ip, the API server's advertise address). */
  address: string;
  /** kubeadm preflight checks to report as warnings (such as "Swap", "SystemVerification"): kubeadm's names. */
  ignorePreflightErrors?: readonly string[];
  /**
   * Control-plane nodes only: true leaves off the control-plane NoSchedule taint, for a cluster whose
   * control-plane hosts also run its pods. Default false (kubeadm's taint).
   */
  schedulable?: boolean;
}

export interface BootstrapTokenInputs {
  /** "[a-z0-9]{6}.[a-z0-9]{16}", as `kubeadm token generate` makes (the flow: joinSecrets()). */
  token: string;
  /** How long the token may be used to join, in seconds; short-lived (DESIGN.md "Trust"). */
  ttlSeconds: number;
}

export interface KubeadmInitInputs extends KubeadmClusterInputs {
  node: NodeInputs;
  /** The API server's port on this host; default 6443. */
  bindPort?: number;
  bootstrapToken: BootstrapTokenInputs;
  /**
   * With more than one control-plane host: the key (64 hex, as `kubeadm certs certificate-key` makes) kubeadm encrypts the
   * shared control-plane certificates with when it uploads them (`kubeadm init --upload-certs`), for the
   * other members to fetch at join. Without it, the flow writes the hub's CAs to each member itself.
   */
  certificateKey?: string;
}

export interface KubeadmJoinInputs {
  node: NodeInputs;
  /** "host:port" of the API server to join through (the controlPlaneEndpoint). */
  apiServerEndpoint: string;
  /** A bootstrap token the first control-plane host's kubeadm made (KubeadmInitInputs.bootstrapToken.token). */
  token: string;
  /** caCertHash() of the cluster CA: the join trusts the API server only if its CA has this key. */
  caCertHashes: readonly string[];
  /** Present for a control-plane member, absent for a worker. */
  controlPlane?: {
    /** This member's API server port; default 6443. */
    bindPort?: number;
    /** The init's certificateKey, when the init uploaded the certificates. */
    certificateKey?: string;
  };
  /**
   * A directory of kubeadm patches (JoinConfiguration.patches): a hosted control plane's worker gets the
   * cluster's kubelet settings from the cluster and its host's own (kubeletHostPatch) from here.
   */
  patchesDir?: string;
}

const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CERT_KEY_RE = /^[0-9a-f]{64}$/;
// A Node's name is a DNS subdomain (RFC 1123), lowercase: kubeadm and the API refuse anything else.
const NODE_NAME_RE = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkNode(node: NodeInputs): void {
  if (!NODE_NAME_RE.test(node.name)) throw new SiteInputError('node.name', `"${node.name}" cannot be a Node's name: use lowercase letters, digits, "-" and "." (RFC 1123), as the Host's name`);
  if (!isIP(node.address)) throw new SiteInputError('node.address', `"${node.address}" is not an IP address; give the address the host is reached at on the cluster's network`);
}

/** "host:port", with a port in range; IPv6 hosts in brackets. */
function checkEndpoint(field: string, endpoint: string): void {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) throw new SiteInputError(field, `"${endpoint}" is not HOST:PORT, such as "10.0.0.10:6443" or "[fd00::10]:6443"`);
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SiteInputError(field, `${port} is not a TCP port (1-65535)`);
}

function checkCertificateKey(field: string, key: string | undefined): void {
  if (key !== undefined && !CERT_KEY_RE.test(key)) throw new SiteInputError(field, 'is not 64 lowercase hex digits; make one with `kubeadm certs certificate-key`');
}

function checkCidr(field: string, cidr: string): void {
  const [ip, bits, ...rest] = cidr.split('/');
  const family = isIP(ip ?? '');
  const n = Number(bits);
  if (rest.length || !family || !/^\d{1,3}$/.test(bits ?? '') || n > (family === 4 ? 32 : 128)) throw new SiteInputError(field, `"${cidr}" is not a CIDR such as 10.244.0.0/16`);
}

function nodeRegistration(node: NodeInputs, controlPlane: boolean): Record<string, unknown> {
  return {
    name: node.name,
    criSocket: CONTAINERD_SOCKET,
    // Images are imported from the Release before kubeadm runs: a missing one is a plan error to say
    // at once, never a pull from the internet (an air-gapped site has none).
    imagePullPolicy: 'Never',
    kubeletExtraArgs: [{ name: 'node-ip', value: node.address }],
    ...(node.ignorePreflightErrors?.length ? { ignorePreflightErrors: [...node.ignorePreflightErrors] } : {}),
    // Absent taints: kubeadm taints a control-plane node NoSchedule; [] means none.
    ...(controlPlane && node.schedulable ? { taints: [] } : {}),
  };
}

function yamlDocuments(docs: readonly Record<string, unknown>[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

function clusterConfiguration(c: KubeadmClusterInputs): Record<string, unknown> {
  checkEndpoint('controlPlaneEndpoint', c.controlPlaneEndpoint);
  checkCidr('podSubnet', c.podSubnet);
  checkCidr('serviceSubnet', c.serviceSubnet);
  if (c.dnsDomain !== undefined && !NODE_NAME_RE.test(c.dnsDomain)) throw new SiteInputError('dnsDomain', `"${c.dnsDomain}" is not a DNS domain such as cluster.local`);
  if (!NODE_NAME_RE.test(c.clusterName)) throw new SiteInputError('clusterName', `"${c.clusterName}" cannot name a kubeadm cluster: use lowercase letters, digits and "-"`);
  for (const [i, san] of (c.certSANs ?? []).entries()) if (!isIP(san) && !NODE_NAME_RE.test(san)) throw new SiteInputError(`certSANs[${i}]`, `"${san}" is neither an IP address nor a DNS name`);
  const img = c.images;
  const controllerManagerArgs = (c.nodeCidrs ?? 'outpost') === 'outpost' ? [{ name: 'allocate-node-cidrs', value: 'false' }] : [];
  return {
    apiVersion: KUBEADM_API,
    kind: 'ClusterConfiguration',
    clusterName: c.clusterName,
    kubernetesVersion: img.kubernetesVersion,
    controlPlaneEndpoint: c.controlPlaneEndpoint,
    imageRepository: img.imageRepository,
    networking: { podSubnet: c.podSubnet, serviceSubnet: c.serviceSubnet, dnsDomain: c.dnsDomain ?? DEFAULT_DNS_DOMAIN },
    etcd: { local: { imageRepository: img.etcd.imageRepository, imageTag: img.etcd.imageTag } },
    dns: img.dns ? { imageRepository: img.dns.imageRepository, imageTag: img.dns.imageTag } : { disabled: true },
    ...(img.proxy ? {} : { proxy: { disabled: true } }),
    ...(c.certSANs?.length ? { apiServer: { certSANs: [...c.certSANs] } } : {}),
    ...(controllerManagerArgs.length ? { controllerManager: { extraArgs: controllerManagerArgs } } : {}),
  };
}

/**
 * The kubelet settings a host needs whatever its cluster says, as a kubeadm patch of its
 * KubeletConfiguration (file name: kubeadm's target and patch type): the settings of KubeletSettings.
 */
export function kubeletHostPatch(k: KubeletSettings): { name: string; content: string } {
  const { apiVersion: _a, kind: _k, ...fields } = kubeletConfiguration(k);
  return { name: 'kubeletconfiguration+merge.yaml', content: stringify(fields) };
}

function kubeletConfiguration(k: KubeletSettings): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: k.cgroupDriver,
    ...(k.swap ? { failSwapOn: false, memorySwap: { swapBehavior: k.swap } } : {}),
    ...(k.oomScoreAdj !== undefined ? { oomScoreAdj: k.oomScoreAdj } : {}),
  };
}

function kubeProxyConfiguration(podSubnet: string): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clusterCIDR: podSubnet,
    // 0: leave the host's conntrack table size alone. kube-proxy otherwise writes
    // /sys/module/nf_conntrack/parameters/hashsize, which fails where /sys is read-only (containers,
    // some hardened hosts) and stops kube-proxy; kind does the same.
    conntrack: { maxPerCore: 0 },
  };
}

/**
 * The config for `kubeadm init` on the first control-plane host: InitConfiguration, ClusterConfiguration,
 * KubeletConfiguration, and KubeProxyConfiguration when the cluster runs kube-proxy. SiteInputError
 * names an input kubeadm would refuse.
 */
export function kubeadmInitConfig(input: KubeadmInitInputs): string {
  checkNode(input.node);
  const bindPort = input.bindPort ?? DEFAULT_BIND_PORT;
  checkPort('bindPort', bindPort);
  const t = input.bootstrapToken;
  if (!TOKEN_RE.test(t.token)) throw new SiteInputError('bootstrapToken.token', 'is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}); make one with `kubeadm token generate`');
  // 0 would be a token that never expires: a join credential lying around forever.
  if (!Number.isInteger(t.ttlSeconds) || t.ttlSeconds <= 0) throw new SiteInputError('bootstrapToken.ttlSeconds', `${t.ttlSeconds} is not a positive number of seconds; a join token must expire`);
  checkCertificateKey('certificateKey', input.certificateKey);
  const cluster = clusterConfiguration(input);
  const init = {
    apiVersion: KUBEADM_API,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: t.token,
        ttl: `${t.ttlSeconds}s`,
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
        description: `Outpost: joins the hosts of cluster ${input.clusterName}`,
      },
    ],
    localAPIEndpoint: { advertiseAddress: input.node.address, bindPort },
    nodeRegistration: nodeRegistration(input.node, true),
    ...(input.certificateKey ? { certificateKey: input.certificateKey } : {}),
  };
  const proxy = input.images.proxy ? [kubeProxyConfiguration(input.podSubnet)] : [];
  return yamlDocuments([init, cluster, kubeletConfiguration(input.kubelet), ...proxy]);
}

/**
 * The config for `kubeadm join`: a worker, or (with controlPlane) another control-plane member. Only a
 * JoinConfiguration: a joining node takes the kubelet and kube-proxy settings the init stored in the cluster.
 */
export function kubeadmJoinConfig(input: KubeadmJoinInputs): string {
  checkNode(input.node);
  checkEndpoint('apiServerEndpoint', input.apiServerEndpoint);
  if (!TOKEN_RE.test(input.token)) throw new SiteInputError('token', 'is not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}); use the one the init was given');
  // Without a pin the join would trust whatever API server answers (kubeadm's unsafeSkipCAVerification).
  if (input.caCertHashes.length === 0) throw new SiteInputError('caCertHashes', 'is empty: pin the cluster CA (caCertHash of the hub-delivered ca.crt), or a join would trust any API server');
  for (const [i, h] of input.caCertHashes.entries()) if (!CA_CERT_HASH_RE.test(h)) throw new SiteInputError(`caCertHashes[${i}]`, `"${h}" is not sha256:<64 hex>; compute it with caCertHash(ca.crt)`);
  const cp = input.controlPlane;
  if (cp) {
    checkPort('controlPlane.bindPort', cp.bindPort ?? DEFAULT_BIND_PORT);
    checkCertificateKey('controlPlane.certificateKey', cp.certificateKey);
  }
  const join = {
    apiVersion: KUBEADM_API,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: input.apiServerEndpoint, token: input.token, caCertHashes: [...input.caCertHashes] } },
    nodeRegistration: nodeRegistration(input.node, cp !== undefined),
    ...(input.patchesDir ? { patches: { directory: input.patchesDir } } : {}),
    ...(cp
      ? {
          controlPlane: {
            localAPIEndpoint: { advertiseAddress: input.node.address, bindPort: cp.bindPort ?? DEFAULT_BIND_PORT },
            ...(cp.certificateKey ? { certificateKey: cp.certificateKey } : {}),
          },
        }
      : {}),
  };
  return yamlDocuments([join]);
}

/** Where the flow writes the config on a host, and kubeadm's path there. */
export interface KubeadmCommandPaths {
  /** Default /usr/local/bin/kubeadm (install-plan.ts puts it there). */
  kubeadm?: string;
  config: string;
}

/** `kubeadm init --config FILE`, uploading the control-plane certificates when the config carries a certificateKey. */
export function kubeadmInitArgv(paths: KubeadmCommandPaths, opts: { uploadCerts: boolean }): string[] {
  return [paths.kubeadm ?? '/usr/local/bin/kubeadm', 'init', '--config', paths.config, ...(opts.uploadCerts ? ['--upload-certs'] : [])];
}

/** `kubeadm join --config FILE` (the config says whether it joins a worker or a control-plane member). */
export function kubeadmJoinArgv(paths: KubeadmCommandPaths): string[] {
  return [paths.kubeadm ?? '/usr/local/bin/kubeadm', 'join', '--config', paths.config];
}
