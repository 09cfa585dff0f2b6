// Which Clusters a change to another object of the view touches, so their reconcilers run again: a Cluster
// is made of its Datacenter, its SSH keys, the Release of its version and the Hosts it selects. Pure.
import { normaliseVersion, releaseVersion, type Cluster, type Host, type Release, type ResourceObject } from '@outpost/proto';
import { keyOf, type ObjectKey } from '../state/local-state.js';

/** The kinds whose changes reach Clusters. */
export const CLUSTER_INPUTS: ReadonlySet<string> = new Set(['Datacenter', 'SSHKey', 'Release', 'Host']);

function selects(selector: Readonly<Record<string, string>> | null | undefined, host: Host): boolean {
  const entries = Object.entries(selector ?? {});
  // An empty selector selects nothing: a control plane is never placed on "any host" by accident.
  return entries.length > 0 && entries.every(([k, v]) => host.metadata.labels?.[k] === v);
}

/** Whether `cluster` would place anything on `host`: its control plane's hosts or selector, or a worker pool's. */
function usesHost(cluster: Cluster, host: Host): boolean {
  const spec = cluster.spec;
  if (selects(spec?.controlPlane?.hostSelector, host) || (spec?.controlPlane?.hosts ?? []).includes(host.metadata.name ?? '')) return true;
  return (spec?.workers ?? []).some((w) => selects(w.hostSelector, host) || (w.hosts ?? []).includes(host.metadata.name ?? ''));
}

function uses(cluster: Cluster, input: ResourceObject): boolean {
  const spec = cluster.spec;
  switch (input.kind) {
    case 'Datacenter':
      return spec?.datacenter === input.metadata.name;
    case 'SSHKey':
      return (cluster.metadata.namespace ?? '') === (input.metadata.namespace ?? '') && (spec?.sshKeys ?? []).includes(input.metadata.name ?? '');
    case 'Release':
      return normaliseVersion(spec?.version) === releaseVersion(input as Release);
    case 'Host':
      return usesHost(cluster, input as Host);
    default:
      return false;
  }
}

/**
 * The Clusters that use `input` as it was (`before`) or as it is now (`after`): a Host whose labels changed
 * may leave one Cluster's selection and enter another's, and both must hear of it.
 */
export function clustersUsing(before: ResourceObject | undefined, after: ResourceObject | undefined, clusters: readonly Cluster[]): ObjectKey[] {
  const versions = [before, after].filter((o): o is ResourceObject => o !== undefined && CLUSTER_INPUTS.has(o.kind));
  return clusters.filter((c) => versions.some((v) => uses(c, v))).map(keyOf);
}
