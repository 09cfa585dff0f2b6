// The resource kinds: names the API, the CLI and the wire use for each. One table, read everywhere.
export const API_GROUP = 'outpost.dev';
export const API_VERSION = 'v1alpha1';
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

export type KindName =
  | 'Project' | 'SSHKey' | 'Datacenter' | 'Seed' | 'Site' | 'Host' | 'Cluster' | 'Release' | 'Agent' | 'Token';

export interface KindInfo {
  kind: KindName;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** Project-scoped (metadata.namespace is the project) or cluster-scoped. */
  namespaced: boolean;
  /** The field of the `Resource` oneof that carries this kind on the wire. */
  wireField: 'project' | 'sshKey' | 'datacenter' | 'seed' | 'site' | 'host' | 'cluster' | 'release' | 'agent' | 'token';
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Project', plural: 'projects', singular: 'project', shortNames: ['proj'], namespaced: false, wireField: 'project' },
  { kind: 'SSHKey', plural: 'sshkeys', singular: 'sshkey', shortNames: ['key'], namespaced: true, wireField: 'sshKey' },
  { kind: 'Datacenter', plural: 'datacenters', singular: 'datacenter', shortNames: ['dc'], namespaced: false, wireField: 'datacenter' },
  { kind: 'Seed', plural: 'seeds', singular: 'seed', shortNames: [], namespaced: false, wireField: 'seed' },
  { kind: 'Site', plural: 'sites', singular: 'site', shortNames: [], namespaced: false, wireField: 'site' },
  { kind: 'Host', plural: 'hosts', singular: 'host', shortNames: [], namespaced: false, wireField: 'host' },
  { kind: 'Cluster', plural: 'clusters', singular: 'cluster', shortNames: ['cl'], namespaced: true, wireField: 'cluster' },
  { kind: 'Release', plural: 'releases', singular: 'release', shortNames: ['rel'], namespaced: false, wireField: 'release' },
  { kind: 'Agent', plural: 'agents', singular: 'agent', shortNames: ['ag'], namespaced: false, wireField: 'agent' },
  { kind: 'Token', plural: 'tokens', singular: 'token', shortNames: ['tok'], namespaced: false, wireField: 'token' },
];

const byAlias = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const alias of [k.kind, k.plural, k.singular, ...k.shortNames]) byAlias.set(alias.toLowerCase(), k);
}

/** Finds a kind by its kind name, plural, singular or short name, case-insensitively. */
export function findKind(nameOrAlias: string): KindInfo | undefined {
  return byAlias.get(nameOrAlias.toLowerCase());
}

export function kindInfo(kind: KindName): KindInfo {
  const k = byAlias.get(kind.toLowerCase());
  if (!k) throw new Error(`unknown kind ${kind}`);
  return k;
}

export function isKindName(s: string): s is KindName {
  return KINDS.some((k) => k.kind === s);
}
