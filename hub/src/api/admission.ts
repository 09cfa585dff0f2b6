// What the schema cannot say: names, versions, references and choices. Every problem names its field.
import { isIPv4, isIPv6 } from 'node:net';
import { KUBE_VERSION_RE, releaseVersion, versionStepProblem, type Cluster, type Datacenter, type FieldProblem, type Host, type Release, type ResourceObject, type Seed, type SSHKey, type Token } from '@outpost/proto';
import { ROLES } from '../auth/principal.js';
import { parseExpiry } from '../auth/token-expiry.js';
import { MAX_DURATION_DAYS, parseDuration } from '../duration.js';
import { checkArtifacts, checkComponents } from './release-components.js';

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface AdmissionLookup {
  exists(kind: string, namespace: string, name: string): boolean;
  get<T extends ResourceObject>(kind: string, namespace: string, name: string): T | undefined;
  /** The Clusters placed in a Datacenter, in every project. */
  clustersIn(datacenter: string): Cluster[];
  /** The Clusters, in every project, that list Host `host` as a control-plane host or a worker. */
  clustersUsingHost(host: string): Cluster[];
}

type Problems = FieldProblem[];

export function checkName(name: string | null | undefined, field: string, out: Problems): void {
  if (!name) out.push({ field, message: 'is required' });
  else if (name.length > 253 || !NAME_RE.test(name)) {
    out.push({ field, message: `"${name}" must be lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters` });
  }
}

function checkCidr(value: string | null | undefined, field: string, out: Problems): void {
  if (!value) return;
  const [addr, bits, extra] = value.split('/');
  const max = isIPv4(addr ?? '') ? 32 : isIPv6(addr ?? '') ? 128 : -1;
  const n = Number(bits);
  if (extra !== undefined || max < 0 || !Number.isInteger(n) || n < 0 || n > max) out.push({ field, message: `"${value}" is not a CIDR such as 10.244.0.0/16` });
}

function cluster(c: Cluster, lookup: AdmissionLookup, out: Problems): void {
  const s = c.spec;
  if (!s) {
    out.push({ field: 'spec', message: 'is required' });
    return;
  }
  if (!s.version) out.push({ field: 'spec.version', message: 'is required (a Kubernetes version such as "1.33.0")' });
  else if (!KUBE_VERSION_RE.test(s.version)) out.push({ field: 'spec.version', message: `"${s.version}" is not a Kubernetes version; write it as MAJOR.MINOR.PATCH, such as "1.33.0"` });
  let dc: Datacenter | undefined;
  if (!s.datacenter) out.push({ field: 'spec.datacenter', message: 'is required: the Datacenter the cluster runs in' });
  else {
    dc = lookup.get<Datacenter>('Datacenter', '', s.datacenter);
    if (!dc) out.push({ field: 'spec.datacenter', message: `datacenter "${s.datacenter}" does not exist; create it first (outpost get datacenters lists them)` });
  }
  const mode = s.controlPlane?.mode;
  if (!mode) out.push({ field: 'spec.controlPlane.mode', message: 'is required: "hosted" (pods on a seed) or "kubeadm" (on site hosts)' });
  else if (mode !== 'hosted' && mode !== 'kubeadm') out.push({ field: 'spec.controlPlane.mode', message: `"${mode}" is not one of hosted, kubeadm` });
  else if (dc && servedMode(dc) && servedMode(dc) !== mode) out.push({ field: 'spec.controlPlane.mode', message: `${servedBy(dc)}, which runs ${servedMode(dc)} control planes only; use mode ${servedMode(dc)}, or a datacenter served by a ${mode === 'hosted' ? 'seed' : 'site'}` });
  // 0 and unset are one value on the wire (proto3 uint32), so both mean the default, 1.
  const replicas = s.controlPlane?.replicas;
  if (replicas && replicas !== 1 && replicas !== 3) out.push({ field: 'spec.controlPlane.replicas', message: `must be 1 or 3, not ${replicas} (leave it out for 1): etcd needs an odd number of members, and 3 is enough to lose one` });
  checkCidr(s.network?.podCidr, 'spec.network.podCidr', out);
  checkCidr(s.network?.serviceCidr, 'spec.network.serviceCidr', out);
  (s.sshKeys ?? []).forEach((k: string, i: number) => checkName(k, `spec.sshKeys[${i}]`, out));
  const pools = new Set<string>();
  (s.workers ?? []).forEach((w: { name?: string | null }, i: number) => {
    checkName(w.name, `spec.workers[${i}].name`, out);
    if (w.name && pools.has(w.name)) out.push({ field: `spec.workers[${i}].name`, message: `"${w.name}" is used by another worker pool` });
    if (w.name) pools.add(w.name);
  });
  if (mode === 'kubeadm' && s.network?.cni && !CNIS.includes(s.network.cni)) out.push({ field: 'spec.network.cni', message: `"${s.network.cni}" is not one Outpost installs (${CNIS.join(', ')}); leave it out for bridge` });
  clusterHosts(c, mode, dc, lookup, out);
}

/** The CNIs a site agent installs: `bridge` routes each node's pod CIDR over the hosts' own network. */
const CNIS = ['bridge'];

/**
 * The Hosts a Cluster names: each exists, is at the site that serves a kubeadm cluster's datacenter (for
 * static workers of a hosted control plane: all at one site, any one), appears once in the cluster, and in
 * no other cluster.
 */
function clusterHosts(c: Cluster, mode: string | null | undefined, dc: Datacenter | undefined, lookup: AdmissionLookup, out: Problems): void {
  const s = c.spec!;
  const controlPlane = s.controlPlane?.hosts ?? [];
  if (mode === 'hosted' && controlPlane.length) out.push({ field: 'spec.controlPlane.hosts', message: 'a hosted control plane runs as pods on the seed, not on hosts; list site hosts under spec.workers to join them as static workers' });
  const replicas = s.controlPlane?.replicas || 1;
  if (mode === 'kubeadm' && controlPlane.length && controlPlane.length !== replicas) {
    out.push({ field: 'spec.controlPlane.hosts', message: `names ${controlPlane.length} hosts for ${replicas} control-plane replica${replicas === 1 ? '' : 's'}; name exactly ${replicas}, the first is where kubeadm init runs` });
  }
  const site = mode === 'kubeadm' ? dc?.spec?.site : undefined;
  const seen = new Map<string, string>();
  // A hosted Cluster's static workers are joined by one site's agent: the first worker's site is theirs.
  let workersSite: { site: string; field: string } | undefined;
  const check = (name: string, field: string): void => {
    checkName(name, field, out);
    const earlier = seen.get(name);
    if (earlier) return void out.push({ field, message: `host "${name}" is already listed at ${earlier}; a host has one role in a cluster` });
    seen.set(name, field);
    const h = lookup.get<Host>('Host', '', name);
    if (!h) return void out.push({ field, message: `host "${name}" does not exist; create it first (outpost get hosts lists them)` });
    if (site && h.spec?.site !== site) out.push({ field, message: `host "${name}" is at site "${h.spec?.site}", but datacenter "${dc?.metadata.name}" is served by site "${site}"; use that site's hosts` });
    if (mode === 'hosted' && h.spec?.site) {
      if (!workersSite) workersSite = { site: h.spec.site, field };
      else if (h.spec.site !== workersSite.site) out.push({ field, message: `host "${name}" is at site "${h.spec.site}", but ${workersSite.field} is at site "${workersSite.site}"; a hosted cluster's static workers are joined by one site's agent, so take them all from one site` });
    }
    const other = lookup.clustersUsingHost(name).find((o) => o.metadata.namespace !== c.metadata.namespace || o.metadata.name !== c.metadata.name);
    if (other) out.push({ field, message: `host "${name}" is used by cluster ${other.metadata.namespace}/${other.metadata.name}; remove it there first` });
  };
  controlPlane.forEach((h, i) => check(h, `spec.controlPlane.hosts[${i}]`));
  (s.workers ?? []).forEach((w, i) => (w.hosts ?? []).forEach((h, j) => check(h, `spec.workers[${i}].hosts[${j}]`)));
}

/** The control-plane mode the Datacenter's server runs: a seed hosts them as pods, a site runs kubeadm. */
function servedMode(dc: Datacenter): 'hosted' | 'kubeadm' | undefined {
  return dc.spec?.seed ? 'hosted' : dc.spec?.site ? 'kubeadm' : undefined;
}

function server(dc: Datacenter): string {
  return dc.spec?.seed ? `seed "${dc.spec.seed}"` : `site "${dc.spec?.site}"`;
}

function servedBy(dc: Datacenter): string {
  return `datacenter "${dc.metadata.name}" is served by ${server(dc)}`;
}

/** How many clusters a message names before it says "and N more". */
const NAMED_CLUSTERS = 5;

function datacenter(d: Datacenter, lookup: AdmissionLookup, out: Problems): void {
  const s = d.spec;
  if (!s?.provider) out.push({ field: 'spec.provider', message: 'is required (baremetal, edge, ...)' });
  if (!!s?.seed === !!s?.site) {
    out.push({ field: 'spec.site', message: 'exactly one of spec.seed and spec.site must name who serves this datacenter' });
    return;
  }
  if (s?.seed && !lookup.exists('Seed', '', s.seed)) out.push({ field: 'spec.seed', message: `seed "${s.seed}" does not exist; create it first` });
  if (s?.site && !lookup.exists('Site', '', s.site)) out.push({ field: 'spec.site', message: `site "${s.site}" does not exist; create it first` });
  strandedClusters(d, lookup, out);
}

/**
 * A Datacenter moved from a site to a seed (or back) would leave its clusters with a control-plane mode
 * the new server cannot run, and their mode is immutable: refuse the move, naming them. Clusters being
 * deleted count too: their server still has to release their finalizers.
 */
function strandedClusters(d: Datacenter, lookup: AdmissionLookup, out: Problems): void {
  const mode = servedMode(d);
  const stranded = lookup
    .clustersIn(d.metadata.name ?? '')
    .filter((c) => c.spec?.controlPlane?.mode && c.spec.controlPlane.mode !== mode)
    .map((c) => `${c.metadata.namespace}/${c.metadata.name}`);
  if (!stranded.length) return;
  const named = stranded.slice(0, NAMED_CLUSTERS).join(', ') + (stranded.length > NAMED_CLUSTERS ? ` and ${stranded.length - NAMED_CLUSTERS} more` : '');
  const other = mode === 'hosted' ? 'kubeadm' : 'hosted';
  out.push({
    field: mode === 'hosted' ? 'spec.seed' : 'spec.site',
    message: `${servedBy(d)}, which runs ${mode} control planes only, but the datacenter holds ${other} clusters (${named}); delete those clusters first, or keep this datacenter as it is and create a new one for ${server(d)}`,
  });
}

function host(h: Host, lookup: AdmissionLookup, out: Problems): void {
  const s = h.spec;
  if (!s?.site) out.push({ field: 'spec.site', message: 'is required: the Site this host is at' });
  else if (!lookup.exists('Site', '', s.site)) out.push({ field: 'spec.site', message: `site "${s.site}" does not exist; create it first` });
  if (!s?.address) out.push({ field: 'spec.address', message: 'is required: the address the site agent reaches the host at' });
  if (s?.sshPort !== undefined && s.sshPort !== null && (s.sshPort < 1 || s.sshPort > 65535)) out.push({ field: 'spec.sshPort', message: `must be a port (1-65535), not ${s.sshPort}` });
  if (s?.hostKey && !HOST_KEY_RE.test(s.hostKey)) out.push({ field: 'spec.hostKey', message: HOST_KEY_HELP });
  if (s?.bastion) {
    if (!s.bastion.address) out.push({ field: 'spec.bastion.address', message: 'is required: the jump host the site agent reaches this host through' });
    if (s.bastion.port && s.bastion.port > 65535) out.push({ field: 'spec.bastion.port', message: `must be a port (1-65535), not ${s.bastion.port}` });
    if (!s.bastion.hostKey) out.push({ field: 'spec.bastion.hostKey', message: `is required: the bastion's key is pinned as the host's is. ${HOST_KEY_HELP}` });
    else if (!HOST_KEY_RE.test(s.bastion.hostKey)) out.push({ field: 'spec.bastion.hostKey', message: HOST_KEY_HELP });
  }
}

const HOST_KEY_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const HOST_KEY_HELP = 'must be an OpenSSH fingerprint such as SHA256:abc... (ssh-keyscan HOST | ssh-keygen -lf -)';

function sshKey(k: SSHKey, out: Problems): void {
  const key = k.spec?.publicKey ?? '';
  if (!/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/]+=*( .*)?$/.test(key.trim())) {
    out.push({ field: 'spec.publicKey', message: 'must be one OpenSSH public key line, such as "ssh-ed25519 AAAA... you@host"' });
  }
}

function token(t: Token, lookup: AdmissionLookup, out: Problems): void {
  const s = t.spec;
  if (s?.type === 'bootstrap') {
    if (!!s.seed === !!s.site) out.push({ field: 'spec.site', message: 'a bootstrap token is bound to exactly one of spec.seed and spec.site' });
    if (s.seed && !lookup.exists('Seed', '', s.seed)) out.push({ field: 'spec.seed', message: `seed "${s.seed}" does not exist; create it first` });
    if (s.site && !lookup.exists('Site', '', s.site)) out.push({ field: 'spec.site', message: `site "${s.site}" does not exist; create it first` });
  } else if (s?.type === 'api') {
    if (!ROLES.includes(s.role as never)) out.push({ field: 'spec.role', message: `must be one of ${ROLES.join(', ')}` });
    if (s.role !== 'admin' && !s.project) out.push({ field: 'spec.project', message: 'a project role needs the project it applies to' });
    if (s.project && !lookup.exists('Project', '', s.project)) out.push({ field: 'spec.project', message: `project "${s.project}" does not exist` });
  } else out.push({ field: 'spec.type', message: 'must be "bootstrap" (for an agent to join) or "api" (for people and automation)' });
  if (s?.ttl && parseDuration(s.ttl) === undefined) out.push({ field: 'spec.ttl', message: `"${s.ttl}" is not a duration such as 30m, 1h or 7d (at most ${MAX_DURATION_DAYS}d)` });
  if (s?.expires && parseExpiry(s.expires) === undefined) out.push({ field: 'spec.expires', message: `"${s.expires}" is not an RFC 3339 time such as 2026-12-31T00:00:00Z; or leave it out and give spec.ttl` });
}

function release(r: Release, out: Problems): void {
  const version = releaseVersion(r);
  if (!KUBE_VERSION_RE.test(version)) {
    out.push({ field: r.spec?.version ? 'spec.version' : 'metadata.name', message: `"${version}" is not a Kubernetes version: a Release stands for one, such as "1.33.0" (set spec.version, or name the Release by it)` });
  }
  checkComponents(r.spec?.components, out);
  checkArtifacts(r.spec, out);
}

/** A field fixed at creation: changing it means a new object. */
interface ImmutableField {
  field: string;
  value(o: ResourceObject): string | null | undefined;
  /** What to do instead, for the message. */
  instead: string;
}

const IMMUTABLE: Readonly<Record<string, readonly ImmutableField[]>> = {
  // A cluster's datacenter and control-plane mode choose the agent that builds it and how (pods on a
  // seed, kubeadm on site hosts); changing either in place would strand what was built.
  Cluster: [
    { field: 'spec.datacenter', value: (o) => (o as Cluster).spec?.datacenter, instead: 'create a new Cluster to move it' },
    { field: 'spec.controlPlane.mode', value: (o) => (o as Cluster).spec?.controlPlane?.mode, instead: 'create a new Cluster with the other mode' },
  ],
};

/**
 * Problems with changing `current` into `next`, for replace and patch: immutable fields it changes, and
 * a Cluster version step the Release rules refuse. A field left empty or malformed is the field checks'
 * to report, not this one's.
 */
export function admitChange(current: ResourceObject, next: ResourceObject): FieldProblem[] {
  const out: Problems = [];
  for (const f of IMMUTABLE[next.kind] ?? []) {
    const was = f.value(current);
    const now = f.value(next);
    if (was && now && now !== was) out.push({ field: f.field, message: `is immutable (was ${JSON.stringify(was)}); ${f.instead}` });
  }
  if (next.kind === 'Cluster') {
    const step = versionStepProblem((current as Cluster).spec?.version, (next as Cluster).spec?.version);
    if (step) out.push({ field: 'spec.version', message: step });
  }
  return out;
}

/** The Service types a seed agent can put a hosted API server behind (empty means NodePort). */
const ENDPOINT_SERVICE_TYPES = ['NodePort', 'LoadBalancer'];

function seed(s: Seed, out: Problems): void {
  const t = s.spec?.endpointServiceType;
  if (t && !ENDPOINT_SERVICE_TYPES.includes(t)) out.push({ field: 'spec.endpointServiceType', message: `"${t}" is not one of ${ENDPOINT_SERVICE_TYPES.join(', ')}; leave it out for NodePort, or use LoadBalancer when the seed has a load balancer` });
}

/** Semantic problems with `obj` (already the right shape), for create and replace alike. */
export function admit(obj: ResourceObject, lookup: AdmissionLookup): FieldProblem[] {
  const out: Problems = [];
  checkName(obj.metadata.name, 'metadata.name', out);
  switch (obj.kind) {
    case 'Cluster':
      cluster(obj as Cluster, lookup, out);
      break;
    case 'Datacenter':
      datacenter(obj as Datacenter, lookup, out);
      break;
    case 'Seed':
      seed(obj as Seed, out);
      break;
    case 'Release':
      release(obj as Release, out);
      break;
    case 'Host':
      host(obj as Host, lookup, out);
      break;
    case 'SSHKey':
      sshKey(obj as SSHKey, out);
      break;
    case 'Token':
      token(obj as Token, lookup, out);
      break;
  }
  return out;
}
