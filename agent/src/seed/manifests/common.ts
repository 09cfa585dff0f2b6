// What every object of a hosted control plane shares: its labels, the hash annotation that rolls pods when
// their certificates change, and a rolling update that never takes the last ready pod away. Pure.
import type { V1Container, V1DeploymentStrategy, V1ObjectMeta } from '@kubernetes/client-node';

export const COMPONENT_LABEL = 'outpost.dev/component';
/** The pod template annotation whose change (a certificate the component reads once) rolls the pods. */
export const CERTS_HASH_ANNOTATION = 'outpost.dev/certs-hash';
/**
 * On a running pod of etcd or the apiserver (not their templates): its Secret's whole content hash. Setting
 * it is an update of the pod, which makes kubelet refresh the pod's Secret volume at once, with no restart.
 */
export const CERTS_CONTENT_ANNOTATION = 'outpost.dev/certs-content';

/** Where a component's Secret is mounted in its pod. */
export const CERTS_DIR = '/etc/outpost/pki';

export interface ManifestContext {
  namespace: string;
  /** The Cluster's namespace labels (project, cluster), put on every object. */
  labels: Readonly<Record<string, string>>;
}

export function selectorOf(component: string): Record<string, string> {
  return { [COMPONENT_LABEL]: component };
}

export function meta(ctx: ManifestContext, name: string, component: string): V1ObjectMeta {
  return { name, namespace: ctx.namespace, labels: { ...ctx.labels, ...selectorOf(component) } };
}

/** Surge one new pod, wait for it to be ready, then stop an old one: the API answers throughout a roll. */
export const NO_DOWNTIME: V1DeploymentStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };

/**
 * IfNotPresent: a node that has the image (an air-gapped seed, the test world) never asks a registry; one
 * that lacks it pulls. A pull that cannot work shows as ErrImagePull / ImagePullBackOff, which status names.
 */
export function container(name: string, image: string, args: string[], rest: Omit<V1Container, 'name' | 'image' | 'args'> = {}): V1Container {
  return { name, image, imagePullPolicy: 'IfNotPresent', args, ...rest };
}

export function certsVolume(secret: string): { volume: { name: string; secret: { secretName: string; defaultMode: number } }; mount: { name: string; mountPath: string; readOnly: boolean } } {
  return { volume: { name: 'pki', secret: { secretName: secret, defaultMode: 0o400 } }, mount: { name: 'pki', mountPath: CERTS_DIR, readOnly: true } };
}

export const pki = (file: string): string => `${CERTS_DIR}/${file}`;
