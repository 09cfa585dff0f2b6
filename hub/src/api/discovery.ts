// API discovery, as kube-apiserver serves it: the legacy documents (/apis and the group version's
// APIResourceList) and, when the Accept asks for it, the aggregated APIGroupDiscoveryList of
// apidiscovery.k8s.io/v2, which gives kubectl every resource in one request instead of two.
import { API_GROUP, API_VERSION, GROUP_VERSION, KINDS } from '@outpost/proto';

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const STATUS_VERBS = ['get', 'update', 'patch'];
/** `kubectl get outpost` lists every kind, as `kubectl get all` does for a cluster's workloads. */
const CATEGORIES = ['outpost'];

/** The media type of aggregated discovery, as kubectl asks for it and as the answer must be labelled. */
export const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether an Accept header asks for aggregated discovery v2 (kubectl lists it first, then v2beta1, then JSON). */
export function wantsAggregated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim())));
    return type === 'application/json' && p.g === 'apidiscovery.k8s.io' && p.v === 'v2' && p.as === 'APIGroupDiscoveryList';
  });
}

export function apiGroupList(): object {
  const version = { groupVersion: GROUP_VERSION, version: API_VERSION };
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: API_GROUP, versions: [version], preferredVersion: version }] };
}

export function apiResourceList(): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: KINDS.flatMap((k) => [
      { name: k.plural, singularName: k.singular, namespaced: k.namespaced, kind: k.kind, shortNames: k.shortNames, verbs: VERBS, categories: CATEGORIES },
      { name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: STATUS_VERBS },
    ]),
  };
}

export function aggregatedDiscovery(): object {
  const kindOf = (kind: string) => ({ group: API_GROUP, version: API_VERSION, kind });
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: [
      {
        metadata: { name: API_GROUP },
        versions: [
          {
            version: API_VERSION,
            freshness: 'Current',
            resources: KINDS.map((k) => ({
              resource: k.plural,
              singularResource: k.singular,
              responseKind: kindOf(k.kind),
              scope: k.namespaced ? 'Namespaced' : 'Cluster',
              shortNames: k.shortNames,
              categories: CATEGORIES,
              verbs: VERBS,
              subresources: [{ subresource: 'status', responseKind: kindOf(k.kind), verbs: STATUS_VERBS }],
            })),
          },
        ],
      },
    ],
  };
}
