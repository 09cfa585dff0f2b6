import type { Cluster, Host, ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import type { ViewReader } from '../reconcile/reconciler.js';
import { clusterPlan, ClusterPlanError } from './cluster-plan.js';

const GV = 'outpost.dev/v1alpha1';
const host = (name: string, address: string, extra: Partial<NonNullable<Host['spec']>> = {}): Host => ({ apiVersion: GV, kind: 'Host', metadata: { name }, spec: { site: 's', address, hostKey: `SHA256:${name}`, ...extra } });
const view = (...objects: ResourceObject[]): ViewReader => ({
  get: (k) => objects.find((o) => o.kind === k.kind && o.metadata.name === k.name),
  list: (kind) => objects.filter((o) => o.kind === kind),
});
const cluster = (spec: NonNullable<Cluster['spec']>): Cluster => ({ apiVersion: GV, kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' }, spec });

describe('clusterPlan', () => {
  it('puts init on the first control-plane host, then the others, then each pool', () => {
    const v = view(host('cp0', '10.0.0.10'), host('cp1', '10.0.0.11', { sshPort: 2222, sshUser: 'ops' }), host('cp2', '10.0.0.12'), host('w0', '10.0.0.20', { bastion: { address: '10.0.0.1', hostKey: 'SHA256:b' } }));
    const p = clusterPlan(cluster({ controlPlane: { mode: 'kubeadm', replicas: 3, hosts: ['cp0', 'cp1', 'cp2'] }, workers: [{ name: 'edge', hosts: ['w0'] }] }), v);
    expect(p.init.name).toBe('cp0');
    expect(p.all.map((h) => `${h.name}:${h.role}${h.pool ? `:${h.pool}` : ''}`)).toEqual(['cp0:control-plane', 'cp1:control-plane', 'cp2:control-plane', 'w0:worker:edge']);
    expect(p.controlPlane[1]!.target).toEqual({ host: 'cp1', address: '10.0.0.11', port: 2222, user: 'ops', hostKey: 'SHA256:cp1' });
    expect(p.workers[0]!.target.bastion).toEqual({ address: '10.0.0.1', port: 22, user: 'root', hostKey: 'SHA256:b' });
  });

  it('names a host the view lacks, and a control plane with no hosts', () => {
    expect(() => clusterPlan(cluster({ controlPlane: { mode: 'kubeadm', hosts: ['gone'] } }), view())).toThrow(new ClusterPlanError(`host "gone" is not in this site agent's view: create it with spec.site set to this agent's site (outpost get hosts gone)`));
    expect(() => clusterPlan(cluster({ controlPlane: { mode: 'kubeadm' } }), view())).toThrow(/spec.controlPlane.hosts names no host/);
  });
});
