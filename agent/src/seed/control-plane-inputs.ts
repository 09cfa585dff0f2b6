// What a hosted control plane is made of, read from the agent's view: the Release of the Cluster's version
// (the image of each component), the replicas, and how the Seed exposes API servers. Pure.
import { normaliseVersion, releaseVersion, type Cluster, type Release, type ResourceObject, type Seed } from '@outpost/proto';
import type { ViewReader } from '../reconcile/reconciler.js';
import { ReleaseProblemError } from './errors.js';

/** The components a seed runs as pods, each from the Release's spec.components. */
export const SEED_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type SeedComponent = (typeof SEED_COMPONENTS)[number];

export type EndpointServiceType = 'NodePort' | 'LoadBalancer';

export interface ControlPlaneInputs {
  version: string;
  images: Record<SeedComponent, string>;
  /** etcd members and API servers: 1 or 3. */
  replicas: 1 | 3;
  endpointServiceType: EndpointServiceType;
  /** The hosted cluster's Service range (its API server's --service-cluster-ip-range). */
  serviceCidr: string;
  /** Its pod range: kube-proxy's clusterCIDR, kubeadm-config's podSubnet. */
  podCidr: string;
  /** Whether the Cluster lists static workers: the control plane is then made joinable (manifests/joinable.ts). */
  workers: boolean;
  /** The Release's kube-proxy image, run on the workers; absent when the Release brings none. */
  kubeProxyImage?: string;
}

/** kubeadm's default pod range, as the site's kubeadm clusters use. */
export const DEFAULT_POD_CIDR = '10.244.0.0/16';

/** kubeadm's default Service range. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/**
 * The inputs of `cluster`'s control plane, or ReleaseProblemError saying which Release or component is
 * missing. `seedName` is the Seed this agent serves (its view "seed/<name>").
 */
export function controlPlaneInputs(cluster: Cluster, view: ViewReader, seedName: string | undefined): ControlPlaneInputs {
  const version = normaliseVersion(cluster.spec?.version);
  const release = view.list('Release').find((r: ResourceObject) => releaseVersion(r as Release) === version) as Release | undefined;
  if (!release) throw new ReleaseProblemError(`no Release for version ${version} is in this agent's view; create one (outpost apply -f release.yaml) whose spec.components names the etcd, kube-apiserver, kube-controller-manager and kube-scheduler images, or set spec.version to a version \`outpost get releases\` lists`);
  const components = release.spec?.components ?? {};
  const missing = SEED_COMPONENTS.filter((c) => !components[c]);
  if (missing.length) throw new ReleaseProblemError(`Release ${release.metadata.name} (version ${version}) names no image for ${missing.join(', ')}: add ${missing.map((c) => `spec.components.${c}`).join(', ')} to it`);
  const images = Object.fromEntries(SEED_COMPONENTS.map((c) => [c, components[c]!])) as Record<SeedComponent, string>;
  const seed = seedName ? (view.get({ kind: 'Seed', namespace: '', name: seedName }) as Seed | undefined) : undefined;
  return {
    version,
    images,
    replicas: cluster.spec?.controlPlane?.replicas === 3 ? 3 : 1,
    endpointServiceType: seed?.spec?.endpointServiceType === 'LoadBalancer' ? 'LoadBalancer' : 'NodePort',
    serviceCidr: cluster.spec?.network?.serviceCidr || DEFAULT_SERVICE_CIDR,
    podCidr: cluster.spec?.network?.podCidr || DEFAULT_POD_CIDR,
    workers: (cluster.spec?.workers ?? []).some((w) => (w.hosts ?? []).length > 0),
    ...(components['kube-proxy'] ? { kubeProxyImage: components['kube-proxy'] } : {}),
  };
}
