// Deletion through the manager: finalize runs on the last-known object, then the release is queued and
// the object forgotten; a failed finalize keeps it for the next attempt (and for a restart).
import type { ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { isFinalizedReport } from '../state/local-state.js';
import { MemoryLocalState } from '../state/memory-local-state.js';
import { ReconcileManager } from './reconcile-manager.js';
import type { Reconciler } from './reconciler.js';

const cluster = (name: string, extra: object = {}): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', uid: `uid-${name}`, generation: 1, ...extra }, spec: {} });
const key = (name: string) => ({ kind: 'Cluster', namespace: 'p', name });
const quiet = { info: () => undefined, warn: () => undefined };

class Recording implements Reconciler {
  readonly kind = 'Cluster';
  finalized: string[] = [];
  failNext = false;
  async reconcile(): Promise<undefined> {
    return undefined;
  }
  async finalize(lastKnown: ResourceObject): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('seed API unreachable');
    }
    this.finalized.push(`${lastKnown.metadata.name}@${lastKnown.metadata.uid}`);
  }
}

describe('finalize through the ReconcileManager', () => {
  it('finalizes a removed object as last known, queues the release, then forgets it', async () => {
    const state = new MemoryLocalState();
    const r = new Recording();
    const m = new ReconcileManager(state, [r], () => undefined, quiet);
    await m.enqueue(state.apply({ snapshot: false, revision: 1, changes: [{ key: key('a'), object: cluster('a') }] }));
    await m.enqueue(state.apply({ snapshot: false, revision: 2, changes: [{ key: key('a') }] }));
    expect(r.finalized).toEqual(['a@uid-a']);
    expect(state.pendingStatuses()).toEqual([{ seq: 1, ref: { kind: 'Cluster', namespace: 'p', name: 'a', uid: 'uid-a' }, finalized: true }]);
    expect(state.tombstones()).toEqual([]);
  });

  it('finalizes once an object being deleted, not again when the hub removes it', async () => {
    const state = new MemoryLocalState();
    const r = new Recording();
    const m = new ReconcileManager(state, [r], () => undefined, quiet);
    await m.enqueue(state.apply({ snapshot: false, revision: 1, changes: [{ key: key('a'), object: cluster('a', { deletionTimestamp: '2025-06-01T12:00:00Z' }) }] }));
    await m.enqueue(state.apply({ snapshot: false, revision: 2, changes: [{ key: key('a') }] }));
    expect(r.finalized).toEqual(['a@uid-a']);
    expect(state.pendingStatuses()).toHaveLength(1);
  });

  it('keeps the tombstone when finalize fails, and finishes it on resume', async () => {
    const state = new MemoryLocalState();
    const r = new Recording();
    const m = new ReconcileManager(state, [r], () => undefined, quiet);
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('a'), object: cluster('a') }, { key: { kind: 'Host', namespace: '', name: 'h' }, object: { ...cluster('h'), kind: 'Host' } }] });
    r.failNext = true;
    await m.enqueue(state.apply({ snapshot: false, revision: 2, changes: [{ key: key('a') }, { key: { kind: 'Host', namespace: '', name: 'h' } }] }));
    // The Host has no reconciler: nothing waits for its teardown.
    expect(state.tombstones().map((o) => o.kind)).toEqual(['Cluster']);
    expect(state.pendingStatuses()).toEqual([]);
    await new ReconcileManager(state, [r], () => undefined, quiet).resume();
    expect(r.finalized).toEqual(['a@uid-a']);
    expect(state.tombstones()).toEqual([]);
    expect(state.pendingStatuses().map(isFinalizedReport)).toEqual([true]);
  });
});
