import { MAX_SECRETS_PER_REQUEST } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { SecretsRequests, type HeldCluster } from './secrets-requests.js';

const held = (n: number, rv = '1'): HeldCluster[] =>
  Array.from({ length: n }, (_, i) => ({ ref: { kind: 'Cluster', namespace: 'p', name: `c${i}`, uid: `u${i}` }, resourceVersion: rv }));
const none = () => false;

describe('SecretsRequests', () => {
  it('asks once per Cluster without keys, batched, and not again while in flight or once delivered', () => {
    const r = new SecretsRequests({ baseMs: 1000, capMs: 1000 }, () => 0.5);
    const batches = r.due(held(MAX_SECRETS_PER_REQUEST + 1), none, 0);
    expect(batches.map((b) => b.length)).toEqual([MAX_SECRETS_PER_REQUEST, 1]);
    expect(r.due(held(MAX_SECRETS_PER_REQUEST + 1), none, 0)).toEqual([]);
    r.delivered('u0');
    expect(r.due(held(1), (uid) => uid === 'u0', 0)).toEqual([]);
  });

  it('skips Clusters whose keys are held', () => {
    expect(new SecretsRequests().due(held(2), (uid) => uid === 'u1', 0).flat().map((ref) => ref.uid)).toEqual(['u0']);
  });

  it('backs a missing answer off, growing, and asks at once when the Cluster changes', () => {
    const r = new SecretsRequests({ baseMs: 4000, capMs: 60_000 }, () => 0.5);
    r.due(held(1), none, 0);
    expect(r.refused('u0', '1', 0)).toBe(2000);
    expect(r.nextRetryAt()).toBe(2000);
    expect(r.due(held(1), none, 1999)).toEqual([]);
    expect(r.due(held(1), none, 2000).flat()).toHaveLength(1);
    expect(r.refused('u0', '1', 2000)).toBe(4000);
    expect(r.due(held(1), none, 2001)).toEqual([]);
    expect(r.due(held(1, '2'), none, 2001).flat()).toHaveLength(1);
  });

  it('never retries sooner than a second, whatever the jitter', () => {
    const r = new SecretsRequests({ baseMs: 10, capMs: 10 }, () => 0);
    r.due(held(1), none, 0);
    expect(r.refused('u0', '1', 0)).toBe(1000);
  });

  it('asks again after a reconnect for what was in flight, keeping backoffs', () => {
    const r = new SecretsRequests({ baseMs: 4000, capMs: 4000 }, () => 0.5);
    r.due(held(2), none, 0);
    r.refused('u1', '1', 0);
    r.disconnected();
    expect(r.due(held(2), none, 10).flat().map((ref) => ref.uid)).toEqual(['u0']);
  });

  it('forgets the backoff of a Cluster no longer held', () => {
    const r = new SecretsRequests({ baseMs: 4000, capMs: 4000 }, () => 0.5);
    r.due(held(1), none, 0);
    r.refused('u0', '1', 0);
    r.due([], none, 1);
    expect(r.nextRetryAt()).toBeUndefined();
  });
});
