import { clusterKeysToWire, type ClusterKeys, type JoinSecrets, type ObjectRef, type ResourceObject } from '@outpost/proto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ObjectKey } from '../state/local-state.js';
import { ClusterKeysFetcher } from './cluster-keys-fetcher.js';

const keys: ClusterKeys = {
  ca: { certPem: 'ca', keyPem: 'ca-key' },
  frontProxyCa: { certPem: 'fp', keyPem: 'fp-key' },
  etcdCa: { certPem: 'etcd', keyPem: 'etcd-key' },
  serviceAccount: { publicKeyPem: 'sa', privateKeyPem: 'sa-key' },
};
const cluster = (name: string, uid: string, resourceVersion = '1'): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', uid, resourceVersion }, spec: {} });

/** `missed`: the uids a reconciler looked for before their keys came (by default every one). */
function harness(clusters: ResourceObject[], connected = true, missed: (uid: string) => boolean = () => true) {
  const kept = new Map<string, ClusterKeys | { join: JoinSecrets }>();
  const sent: ObjectRef[][] = [];
  const requeued: ObjectKey[] = [];
  const logged: string[] = [];
  const link = { connected };
  const fetcher = new ClusterKeysFetcher({
    state: { list: () => clusters },
    keys: { has: (uid) => kept.has(uid), wasMissed: missed, put: (uid, _k, k) => void kept.set(uid, k) },
    request: (refs) => link.connected && sent.push(refs) > 0,
    onKeys: (k) => void requeued.push(k),
    log: { info: (o, m) => void logged.push(JSON.stringify(o) + m), warn: (o, m) => void logged.push(JSON.stringify(o) + m) },
    now: () => 0,
  });
  return { fetcher, kept, sent, requeued, logged, link };
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('ClusterKeysFetcher', () => {
  it('asks for the Clusters it holds, keeps what the hub sends for them, requeues them, logs no key', () => {
    const h = harness([cluster('a', 'ua'), cluster('b', 'ub')]);
    stop = () => h.fetcher.stop();
    h.fetcher.check();
    expect(h.sent.flat().map((r) => r.uid)).toEqual(['ua', 'ub']);
    h.fetcher.received({ clusters: [{ ref: { kind: 'Cluster', namespace: 'p', name: 'a', uid: 'ua' }, keys: clusterKeysToWire(keys) }, { ref: { uid: 'ub' }, missing: { reason: 'NO_CA_OF_RECORD' } }] });
    expect([...h.kept.keys()]).toEqual(['ua']);
    expect(h.requeued).toEqual([{ kind: 'Cluster', namespace: 'p', name: 'a' }]);
    expect(h.logged.join('\n')).not.toMatch(/ca-key|sa-key/);
    // b is backed off: not asked again at once.
    h.fetcher.check();
    expect(h.sent).toHaveLength(1);
  });

  it('requeues only a Cluster whose reconciler looked for its keys before they came', () => {
    const h = harness([cluster('a', 'ua'), cluster('b', 'ub')], true, (uid) => uid === 'ub');
    stop = () => h.fetcher.stop();
    h.fetcher.check();
    h.fetcher.received({ clusters: ['a', 'b'].map((n) => ({ ref: { kind: 'Cluster', namespace: 'p', name: n, uid: `u${n}` }, keys: clusterKeysToWire(keys) })) });
    expect([...h.kept.keys()]).toEqual(['ua', 'ub']);
    expect(h.requeued).toEqual([{ kind: 'Cluster', namespace: 'p', name: 'b' }]);
  });

  it('keeps nothing for a uid it does not hold, nor incomplete keys', () => {
    const h = harness([cluster('a', 'ua')]);
    stop = () => h.fetcher.stop();
    h.fetcher.check();
    h.fetcher.received({ clusters: [{ ref: { uid: 'someone-else' }, keys: clusterKeysToWire(keys) }, { ref: { uid: 'ua' }, keys: { ...clusterKeysToWire(keys), etcdCa: null } }] });
    expect(h.kept.size).toBe(0);
    expect(h.requeued).toEqual([]);
  });

  it('asks again on the next connection for what was lost with the last', () => {
    const h = harness([cluster('a', 'ua')], false);
    stop = () => h.fetcher.stop();
    h.fetcher.check();
    expect(h.sent).toEqual([]);
    h.link.connected = true;
    h.fetcher.connected();
    expect(h.sent.flat().map((r) => r.uid)).toEqual(['ua']);
    h.fetcher.disconnected();
    h.fetcher.connected();
    expect(h.sent.flat().map((r) => r.uid)).toEqual(['ua', 'ua']);
  });

  it("keeps a hosted Cluster's join secrets (token and CA hash) for its workers' site, and none of another shape", () => {
    const h = harness([cluster('a', 'ua'), cluster('b', 'ub')]);
    stop = () => h.fetcher.stop();
    h.fetcher.check();
    const join = { bootstrapToken: 'abcdef.0123456789abcdef', caCertHash: `sha256:${'a'.repeat(64)}` };
    h.fetcher.received({ clusters: [{ ref: { uid: 'ua' }, join }, { ref: { uid: 'ub' }, join: { bootstrapToken: 'not-a-token', caCertHash: join.caCertHash } }] });
    expect([...h.kept.entries()]).toEqual([['ua', { join }]]);
    expect(h.logged.join('\n')).not.toContain(join.bootstrapToken);
  });
});
