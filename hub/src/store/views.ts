// Which agent views an object belongs to. Pure: the store passes in how to look things up.
//
// A Site's agent sees its Site, the Datacenters it serves, their Clusters, the SSH keys those Clusters
// name, the Site's Hosts, and every Release ('*'). A Seed's agent likewise, without Hosts. A hosted
// Cluster whose static workers are Hosts of a site is in that site's view too (its agent joins them to the
// hosted control plane; it gets join secrets for it, never the CAs: gateway/cluster-secrets.ts). Projects,
// Agents and Tokens are in no view.
import { seedView, siteView, type Cluster, type Datacenter, type Host, type ObjectKey, type ResourceObject, type SSHKey } from '@outpost/proto';

export type { ObjectKey } from '@outpost/proto';
export { seedView, siteView };

export const ALL_AGENTS_VIEW = '*';

export interface ViewLookup {
  datacenter(name: string): Datacenter | undefined;
  host(name: string): Host | undefined;
  /** Clusters in `namespace` that list `sshKey` in spec.sshKeys. */
  clustersUsingKey(namespace: string, sshKey: string): Cluster[];
}

function datacenterViews(dc: Datacenter | undefined): string[] {
  if (dc?.spec?.site) return [siteView(dc.spec.site)];
  if (dc?.spec?.seed) return [seedView(dc.spec.seed)];
  return [];
}

export function viewsOf(obj: ResourceObject, lookup: ViewLookup): string[] {
  switch (obj.kind) {
    case 'Release':
      return [ALL_AGENTS_VIEW];
    case 'Site':
      return [siteView(obj.metadata.name ?? '')];
    case 'Seed':
      return [seedView(obj.metadata.name ?? '')];
    case 'Datacenter':
      return datacenterViews(obj as Datacenter);
    case 'Host': {
      const site = (obj as Host).spec?.site;
      return site ? [siteView(site)] : [];
    }
    case 'Cluster': {
      const c = obj as Cluster;
      const dc = c.spec?.datacenter;
      const serving = dc ? datacenterViews(lookup.datacenter(dc)) : [];
      const workers = workerSites(c, lookup).map(siteView);
      return [...new Set([...serving, ...workers])];
    }
    case 'SSHKey': {
      const key = obj as SSHKey;
      const views = new Set<string>();
      for (const c of lookup.clustersUsingKey(key.metadata.namespace ?? '', key.metadata.name ?? '')) {
        for (const v of viewsOf(c, lookup)) views.add(v);
      }
      return [...views];
    }
    default:
      return [];
  }
}

/**
 * The sites whose Hosts a hosted Cluster lists as static workers (admission keeps them to one). A kubeadm
 * Cluster's workers are at the site that serves it already: none here.
 */
export function workerSites(c: Cluster, lookup: Pick<ViewLookup, 'host'>): string[] {
  if (c.spec?.controlPlane?.mode !== 'hosted') return [];
  const sites = new Set<string>();
  for (const pool of c.spec.workers ?? []) {
    for (const name of pool.hosts ?? []) {
      const site = lookup.host(name)?.spec?.site;
      if (site) sites.add(site);
    }
  }
  return [...sites];
}

/** Whether `view` is the one serving the Cluster's datacenter (the seed's, for a hosted one), not a workers' site. */
export function servesDatacenter(c: Cluster, view: string, lookup: Pick<ViewLookup, 'datacenter'>): boolean {
  const dc = c.spec?.datacenter;
  return !!dc && datacenterViews(lookup.datacenter(dc)).includes(view);
}

/**
 * Objects whose view membership may change when `before` becomes `after` (either may be absent):
 * a Datacenter carries its Clusters, a Cluster carries the SSH keys it names, a Host the hosted Clusters
 * whose workers it is (moved to another site, it takes them into that site's view).
 */
export function dependentsOf(before: ResourceObject | undefined, after: ResourceObject | undefined, clustersInDatacenter: (dc: string) => Cluster[], clustersUsingHost: (host: string) => Cluster[] = () => []): ObjectKey[] {
  const obj = after ?? before;
  if (!obj) return [];
  const out: ObjectKey[] = [];
  if (obj.kind === 'Datacenter') {
    for (const c of clustersInDatacenter(obj.metadata.name ?? '')) {
      out.push({ kind: 'Cluster', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '' });
      out.push(...dependentsOf(undefined, c, clustersInDatacenter));
    }
  } else if (obj.kind === 'Host') {
    for (const c of clustersUsingHost(obj.metadata.name ?? '')) {
      if (c.spec?.controlPlane?.mode !== 'hosted') continue;
      out.push({ kind: 'Cluster', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '' });
      out.push(...dependentsOf(undefined, c, clustersInDatacenter));
    }
  } else if (obj.kind === 'Cluster') {
    const keys = new Set([...((before as Cluster | undefined)?.spec?.sshKeys ?? []), ...((after as Cluster | undefined)?.spec?.sshKeys ?? [])]);
    for (const k of keys) out.push({ kind: 'SSHKey', namespace: obj.metadata.namespace ?? '', name: k });
  }
  return out;
}
