import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterKeys } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLocalState } from './sqlite-local-state.js';

const keys = (tag: string): ClusterKeys => ({
  ca: { certPem: `${tag}-ca`, keyPem: `${tag}-ca-key` },
  frontProxyCa: { certPem: `${tag}-fp`, keyPem: `${tag}-fp-key` },
  etcdCa: { certPem: `${tag}-etcd`, keyPem: `${tag}-etcd-key` },
  serviceAccount: { publicKeyPem: `${tag}-sa`, privateKeyPem: `${tag}-sa-key` },
});
const cluster = (name: string, uid: string, deletionTimestamp?: string) => ({
  apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster',
  metadata: { name, namespace: 'p', uid, generation: 1, ...(deletionTimestamp ? { deletionTimestamp } : {}) }, spec: {},
});
const key = (name: string) => ({ kind: 'Cluster', namespace: 'p', name });

describe('the cluster keys in state.db', () => {
  let dir: string;
  let state: SqliteLocalState;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-keys-'));
    state = new SqliteLocalState(join(dir, 'state.db'));
  });
  afterEach(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('remembers a uid a reader found no keys for, until they are put', () => {
    const store = state.clusterKeys();
    expect(store.wasMissed('ua')).toBe(false);
    expect(store.clusterKeys('ua')).toBeUndefined();
    expect(store.wasMissed('ua')).toBe(true);
    store.put('ua', key('a'), keys('a'));
    expect(store.wasMissed('ua')).toBe(false);
  });

  it('keeps keys by uid across a reopen', () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua') }] });
    state.clusterKeys().put('ua', key('a'), keys('a'));
    state.close();
    state = new SqliteLocalState(join(dir, 'state.db'));
    expect(state.clusterKeys().clusterKeys('ua')).toEqual(keys('a'));
    expect(state.clusterKeys().clusterKeys('ub')).toBeUndefined();
  });

  it("keeps a removed Cluster's keys while it is a tombstone, and forgets them with it", () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua') }, { key: key('b'), object: cluster('b', 'ub') }] });
    state.clusterKeys().put('ua', key('a'), keys('a'));
    state.clusterKeys().put('ub', key('b'), keys('b'));
    state.apply({ snapshot: false, revision: 2, changes: [{ key: key('a') }] });
    expect(state.clusterKeys().has('ua')).toBe(true);
    state.forget(key('a'));
    expect(state.clusterKeys().uids()).toEqual(['ub']);
  });

  it('forgets the keys of a Cluster finalized while still in the view (being deleted)', () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua', '2026-01-01T00:00:00Z') }] });
    state.clusterKeys().put('ua', key('a'), keys('a'));
    state.forget(key('a'));
    expect(state.clusterKeys().has('ua')).toBe(false);
  });

  it('drops the old keys when a Cluster is made again under its name', () => {
    state.apply({ snapshot: true, revision: 1, changes: [{ key: key('a'), object: cluster('a', 'ua') }] });
    state.clusterKeys().put('ua', key('a'), keys('a'));
    state.apply({ snapshot: true, revision: 2, changes: [{ key: key('a'), object: cluster('a', 'ua2') }] });
    expect(state.clusterKeys().has('ua')).toBe(false);
  });

  it('holds either the CAs or the join secrets of a uid, and answers each reader only with its kind', () => {
    const store = state.clusterKeys();
    const join = { bootstrapToken: 'abcdef.0123456789abcdef', caCertHash: `sha256:${'a'.repeat(64)}` };
    store.put('ua', key('a'), keys('a'));
    store.put('ub', key('b'), { join });
    expect([store.clusterKeys('ua'), store.clusterJoin('ua')]).toEqual([keys('a'), undefined]);
    expect([store.clusterKeys('ub'), store.clusterJoin('ub')]).toEqual([undefined, join]);
    expect(store.has('ub')).toBe(true);
  });
});
