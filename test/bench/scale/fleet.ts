// Seeds a hub's store with a fleet before the hub process starts: per agent one Site, one Datacenter,
// one Cluster, and one real bootstrap token (hashed, as `outpost token create` makes them). Writing
// through the Store in one transaction takes seconds where 300,000 API calls would take minutes; the
// hub process that then serves them is the real one.
import { join } from 'node:path';
import { hashSecret, randomToken, Store } from '@outpost/hub';
import { rfc3339 } from '@outpost/proto';

const GV = 'outpost.dev/v1alpha1';
const ctx = { actor: 'bench:seed' };

export const siteName = (i: number): string => `s-${i}`;
export const clusterName = (i: number): string => `c-${i}`;

export function seedFleet(dataDir: string, agents: number): string[] {
  const store = new Store(join(dataDir, 'hub.db'));
  const tokens: string[] = [];
  const expires = rfc3339(new Date(Date.now() + 6 * 3_600_000));
  const used = new Set<string>();
  try {
    store.transaction(() => {
      store.create({ apiVersion: GV, kind: 'Project', metadata: { name: 'fleet' }, spec: {} }, ctx);
      for (let i = 0; i < agents; i++) {
        const site = siteName(i);
        store.create({ apiVersion: GV, kind: 'Site', metadata: { name: site }, spec: { location: `bench ${i}` } }, ctx);
        store.create({ apiVersion: GV, kind: 'Datacenter', metadata: { name: `dc-${i}` }, spec: { provider: 'edge', site } }, ctx);
        store.create({ apiVersion: GV, kind: 'Cluster', metadata: { name: clusterName(i), namespace: 'fleet' }, spec: { version: '1.33.0', datacenter: `dc-${i}`, controlPlane: { mode: 'kubeadm', replicas: 1 } } }, ctx);
        let id = randomToken(6);
        while (used.has(id)) id = randomToken(6);
        used.add(id);
        const secret = randomToken(16);
        store.create({ apiVersion: GV, kind: 'Token', metadata: { name: id }, spec: { type: 'bootstrap', site, ttl: '6h', expires } }, ctx);
        store.putCredential(`token/${id}`, 'bootstrap', hashSecret(secret));
        tokens.push(`${id}.${secret}`);
      }
    });
  } finally {
    store.close();
  }
  return tokens;
}
