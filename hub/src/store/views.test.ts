import type { Cluster, Datacenter, Host, ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { dependentsOf, servesDatacenter, viewsOf, workerSites, type ViewLookup } from './views.js';

const GV = 'outpost.dev/v1alpha1';
const obj = <T extends ResourceObject>(kind: string, name: string, spec: object, namespace?: string): T => ({ apiVersion: GV, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec }) as T;
const dcs: Record<string, Datacenter> = { fra: obj('Datacenter', 'fra', { seed: 'seed1' }), shops: obj('Datacenter', 'shops', { site: 's1' }) };
const hosts: Record<string, Host> = { a: obj('Host', 'a', { site: 's1' }), b: obj('Host', 'b', { site: 's2' }) };
const lookup: ViewLookup = { datacenter: (n) => dcs[n], host: (n) => hosts[n], clustersUsingKey: () => [] };
const cluster = (datacenter: string, mode: string, workers: string[]) => obj<Cluster>('Cluster', 'c', { datacenter, controlPlane: { mode }, workers: [{ name: 'w', hosts: workers }] }, 'p');

describe('a hosted Cluster with static workers', () => {
  it("is in its seed's view and its workers' site's, which does not serve it", () => {
    const c = cluster('fra', 'hosted', ['a']);
    expect(viewsOf(c, lookup).sort()).toEqual(['seed/seed1', 'site/s1']);
    expect([servesDatacenter(c, 'seed/seed1', lookup), servesDatacenter(c, 'site/s1', lookup)]).toEqual([true, false]);
  });

  it("adds no view for a kubeadm Cluster's workers (its own site's) nor for hosts not in the view", () => {
    expect(workerSites(cluster('shops', 'kubeadm', ['a', 'b']), lookup)).toEqual([]);
    expect(viewsOf(cluster('fra', 'hosted', ['gone']), lookup)).toEqual(['seed/seed1']);
  });

  it("takes a Host's hosted Clusters along when it changes (it may have moved to another site)", () => {
    const c = cluster('fra', 'hosted', ['a']);
    expect(dependentsOf(hosts.a, hosts.a, () => [], () => [c, cluster('shops', 'kubeadm', ['a'])])).toEqual([{ kind: 'Cluster', namespace: 'p', name: 'c' }]);
  });
});
