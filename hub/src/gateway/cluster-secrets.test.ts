import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentFinalizer, caCertHash, clusterKeysFromWire, hostedJoinSecrets, SecretsMissing, type Cluster, type ObjectRef } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterPki } from '../pki/cluster-pki.js';
import { Store } from '../store/store.js';
import { answerSecrets, storeSecrets } from './cluster-secrets.js';

const GV = 'outpost.dev/v1alpha1';
const ctx = { actor: 'test' };
const log = { warn: () => undefined };

describe('answerSecrets', () => {
  let dir: string;
  let store: Store;
  let pki: ClusterPki;
  let unhook: () => void;
  const ref = (name: string, namespace = 'p'): ObjectRef => ({ kind: 'Cluster', namespace, name, uid: store.get('Cluster', namespace, name)?.metadata.uid ?? 'none' });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-secrets-'));
    store = new Store(join(dir, 'hub.db'));
    pki = new ClusterPki(store, randomBytes(32));
    unhook = pki.start();
    for (const o of [
      { kind: 'Project', metadata: { name: 'p' }, spec: {} },
      { kind: 'Site', metadata: { name: 's1' }, spec: { location: 'x' } },
      { kind: 'Site', metadata: { name: 's2' }, spec: { location: 'y' } },
      { kind: 'Datacenter', metadata: { name: 'dc1' }, spec: { provider: 'edge', site: 's1' } },
      { kind: 'Datacenter', metadata: { name: 'dc2' }, spec: { provider: 'edge', site: 's2' } },
    ]) store.create({ apiVersion: GV, ...o } as never, ctx);
    for (const [name, datacenter] of [['c1', 'dc1'], ['c2', 'dc2']] as const) {
      const run = await pki.prepare();
      run(() => store.create({ apiVersion: GV, kind: 'Cluster', metadata: { name, namespace: 'p' }, spec: { version: '1.33.0', datacenter, controlPlane: { mode: 'kubeadm' } } } as never, ctx));
    }
  });
  afterEach(() => {
    unhook();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hands a view's Cluster its sealed keys and audits it; another view's, a wrong uid or kind get none", () => {
    const audits = store.auditCount();
    const [mine, theirs, staleUid, otherKind] = answerSecrets(store, pki, log, 'a1', 'site/s1', [ref('c1'), ref('c2'), { ...ref('c1'), uid: 'other' }, { ...ref('c1'), kind: 'Host' }]);
    expect(clusterKeysFromWire(mine?.keys)).toEqual(pki.keys(store.clusterPki.get('p', 'c1')!));
    for (const e of [theirs, staleUid, otherKind]) {
      expect(e?.keys).toBeUndefined();
      expect(e?.missing?.reason).toBe(SecretsMissing.notInView);
    }
    expect(store.auditCount()).toBe(audits + 1);
  });

  it('says NO_CA_OF_RECORD for a Cluster the hub keeps no CAs for', () => {
    store.clusterPki.remove('p', 'c1');
    const source = storeSecrets(store, pki, log);
    let answer;
    source.clusterSecrets('a1', 'site/s1', [ref('c1')], (entries) => (answer = entries));
    expect(answer).toEqual([{ ref: ref('c1'), missing: { reason: SecretsMissing.noCaOfRecord, message: expect.stringMatching(/before the hub kept cluster CAs/) } }]);
  });

  it("gives a hosted Cluster's workers' site the token and CA hash only, the seed its CAs; the site sees the Cluster, and another site nothing", async () => {
    for (const o of [
      { kind: 'Seed', metadata: { name: 'seed1' }, spec: {} },
      { kind: 'Datacenter', metadata: { name: 'fra' }, spec: { provider: 'edge', seed: 'seed1' } },
      { kind: 'Host', metadata: { name: 'w1' }, spec: { site: 's1', address: '10.0.0.1' } },
    ]) store.create({ apiVersion: GV, ...o } as never, ctx);
    const run = await pki.prepare();
    run(() => store.create({ apiVersion: GV, kind: 'Cluster', metadata: { name: 'h1', namespace: 'p' }, spec: { version: '1.33.0', datacenter: 'fra', controlPlane: { mode: 'hosted' }, workers: [{ name: 'w', hosts: ['w1'] }] } } as never, ctx));
    const key = { kind: 'Cluster', namespace: 'p', name: 'h1' };
    expect([store.inView('seed/seed1', key), store.inView('site/s1', key), store.inView('site/s2', key)]).toEqual([true, true, false]);
    // Both serving agents hold it with their finalizers: deleting it waits for the workers' reset too.
    expect(store.get<Cluster>('Cluster', 'p', 'h1')?.metadata.finalizers?.sort()).toEqual([agentFinalizer('seed/seed1'), agentFinalizer('site/s1')].sort());
    const keys = pki.keys(store.clusterPki.get('p', 'h1')!);
    const audits = store.auditCount();
    const [site] = answerSecrets(store, pki, log, 'a1', 'site/s1', [ref('h1')]);
    expect(site?.keys).toBeUndefined();
    expect(site?.join).toEqual(hostedJoinSecrets(keys.ca, ref('h1').uid!));
    expect(site?.join?.caCertHash).toBe(caCertHash(keys.ca.certPem));
    const [seed] = answerSecrets(store, pki, log, 'a2', 'seed/seed1', [ref('h1')]);
    expect(clusterKeysFromWire(seed?.keys)).toEqual(keys);
    expect(seed?.join).toBeUndefined();
    const [other] = answerSecrets(store, pki, log, 'a3', 'site/s2', [ref('h1')]);
    expect(other?.missing?.reason).toBe(SecretsMissing.notInView);
    // One delivery each (join, keys); the refusal is not one.
    expect(store.auditCount()).toBe(audits + 2);
    // The seed's report of the endpoint reaches the workers' site (it joins them there); other status writes do not.
    const before = store.revision();
    store.replaceStatus(key, { phase: 'Creating' }, ctx);
    expect(store.syncView('site/s1', before).upserts).toEqual([]);
    store.replaceStatus(key, { phase: 'Running', endpoint: 'https://10.0.0.9:30443' }, ctx);
    expect(store.syncView('site/s1', before).upserts.map((o) => (o as Cluster).status?.endpoint)).toEqual(['https://10.0.0.9:30443']);
  });
});
