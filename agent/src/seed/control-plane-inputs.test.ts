// What a hosted control plane is made of, read from the view. Pure.
import type { Cluster, ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import type { ViewReader } from '../reconcile/reconciler.js';
import { controlPlaneInputs } from './control-plane-inputs.js';
import { ReleaseProblemError } from './errors.js';

const components = { etcd: 'e:1', 'kube-apiserver': 'a:1', 'kube-controller-manager': 'k:1', 'kube-scheduler': 's:1' };
const view = (...objs: ResourceObject[]): ViewReader => ({
  get: (k) => objs.find((o) => o.kind === k.kind && o.metadata.name === k.name),
  list: (kind) => objs.filter((o) => o.kind === kind),
});
const release = (name: string, version: string, c: Record<string, string> = components): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name }, spec: { version, components: c } });
const seedOf = (endpointServiceType?: string): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Seed', metadata: { name: 'fra-1' }, spec: { ...(endpointServiceType ? { endpointServiceType } : {}) } });
const cluster = (spec: object): Cluster => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'c1', namespace: 'p' }, spec: { version: 'v1.34.4', controlPlane: { mode: 'hosted' }, ...spec } }) as Cluster;

describe('controlPlaneInputs', () => {
  it("takes the images of the Release of the cluster's version, a leading v or not", () => {
    const i = controlPlaneInputs(cluster({}), view(release('other', '1.33.0', {}), release('r1344', '1.34.4'), seedOf()), 'fra-1');
    expect(i).toEqual({ version: '1.34.4', images: components, replicas: 1, endpointServiceType: 'NodePort', serviceCidr: '10.96.0.0/12', podCidr: '10.244.0.0/16', workers: false });
  });

  it("takes 3 replicas, the cluster's Service range and the Seed's LoadBalancer", () => {
    const i = controlPlaneInputs(cluster({ controlPlane: { mode: 'hosted', replicas: 3 }, network: { serviceCidr: '172.20.0.0/16' } }), view(release('1.34.4', '1.34.4'), seedOf('LoadBalancer')), 'fra-1');
    expect(i).toMatchObject({ replicas: 3, serviceCidr: '172.20.0.0/16', endpointServiceType: 'LoadBalancer' });
  });

  it('says which Release, or which of its components, is missing', () => {
    expect(() => controlPlaneInputs(cluster({}), view(), 'fra-1')).toThrow(ReleaseProblemError);
    expect(() => controlPlaneInputs(cluster({}), view(), 'fra-1')).toThrow('no Release for version 1.34.4');
    expect(() => controlPlaneInputs(cluster({}), view(release('1.34.4', '1.34.4', { etcd: 'e:1' })), 'fra-1')).toThrow('Release 1.34.4 (version 1.34.4) names no image for kube-apiserver, kube-controller-manager, kube-scheduler: add spec.components.kube-apiserver');
  });
});
