import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalState } from './local-state.js';
import { MemoryLocalState } from './memory-local-state.js';
import { SqliteLocalState } from './sqlite-local-state.js';

const obj = (kind: string, name: string, generation = 1, spec: object = {}) => ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, namespace: '', generation }, spec });
const key = (kind: string, name: string) => ({ kind, namespace: '', name });

// Both implementations must behave alike: simulated agents (memory) stand in for real ones (SQLite).
describe.each([
  ['SqliteLocalState', (path: string): LocalState => new SqliteLocalState(path)],
  ['MemoryLocalState', (): LocalState => new MemoryLocalState()],
])('%s', (_name, make) => {
  let dir: string;
  let path: string;
  let state: LocalState;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-state-'));
    path = join(dir, 'state.db');
    state = make(path);
  });
  afterEach(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest status per object until the hub stores it', () => {
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, cluster: { observedGeneration: 1 } });
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, cluster: { observedGeneration: 2 } });
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'b' }, cluster: { observedGeneration: 1 } });
    expect(state.pendingStatuses().map((s) => [s.ref.name, s.seq, s.cluster?.observedGeneration])).toEqual([['a', 2, 2], ['b', 3, 1]]);
    state.statusesStored(2);
    expect(state.pendingStatuses().map((s) => s.seq)).toEqual([3]);
  });

  it('keeps the last report per object after the hub stores it, until the object leaves the view', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Host', 'h'), object: obj('Host', 'h') }] });
    state.enqueueStatus({ ref: { kind: 'Host', name: 'h' }, host: { role: 'worker' } });
    state.enqueueStatus({ ref: { kind: 'Host', name: 'h' }, host: { role: 'control-plane' } });
    state.statusesStored(2);
    expect(state.pendingStatuses()).toEqual([]);
    expect(state.lastReported(key('Host', 'h'))).toEqual({ ref: { kind: 'Host', name: 'h' }, host: { role: 'control-plane' } });
    expect(state.lastReported(key('Host', 'other'))).toBeUndefined();
    state.apply({ snapshot: false, revision: 2, changes: [{ key: key('Host', 'h') }] });
    expect(state.lastReported(key('Host', 'h'))).toBeUndefined();
  });

  it('tracks reconciled generations', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 2) }, { key: key('Cluster', 'b'), object: obj('Cluster', 'b', 1) }] });
    state.markReconciled(key('Cluster', 'a'), 2);
    expect(state.unreconciled().map((o) => o.metadata.name)).toEqual(['b']);
  });

  it('applies deltas, reports only real changes, and records the revision with them', () => {
    const first = state.apply({ snapshot: false, revision: 3, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }, { key: key('Host', 'h'), object: obj('Host', 'h') }] });
    expect(first.map((c) => c.key.name)).toEqual(['s', 'h']);
    const again = state.apply({ snapshot: false, revision: 4, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }, { key: key('Host', 'h') }, { key: key('Host', 'never-had') }] });
    expect(again).toEqual([{ key: key('Host', 'h'), object: obj('Host', 'h'), deleted: true }]);
    expect(state.revision()).toBe(4);
    expect(state.list().map((o) => o.metadata.name)).toEqual(['s']);
    expect(state.get(key('Host', 'h'))).toBeUndefined();
  });

  it('treats a snapshot as the whole view: what it lacks is deleted', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }, { key: key('Host', 'h'), object: obj('Host', 'h') }] });
    const applied = state.apply({ snapshot: true, revision: 9, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }] });
    expect(applied).toEqual([{ key: key('Host', 'h'), object: obj('Host', 'h'), deleted: true }]);
    expect(state.revision()).toBe(9);
  });

  it('keeps a removed object as a tombstone with its last-known body until it is forgotten', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 2, { version: '1.33.0' }) }] });
    state.markReconciled(key('Cluster', 'a'), 2);
    expect(state.apply({ snapshot: false, revision: 2, changes: [{ key: key('Cluster', 'a') }] })).toEqual([
      { key: key('Cluster', 'a'), object: obj('Cluster', 'a', 2, { version: '1.33.0' }), deleted: true },
    ]);
    expect(state.tombstones()).toEqual([obj('Cluster', 'a', 2, { version: '1.33.0' })]);
    expect([state.list(), state.unreconciled(), state.beingDeleted()]).toEqual([[], [], []]);
    // Removed again (a snapshot without it): still one tombstone, nothing new to report.
    expect(state.apply({ snapshot: true, revision: 3, changes: [] })).toEqual([]);
    expect(state.tombstones()).toHaveLength(1);
    state.forget(key('Cluster', 'a'));
    expect(state.tombstones()).toEqual([]);
  });

  it('surfaces a deletionTimestamp as being deleted, and once finalized drops the object when it leaves', () => {
    const deleting = { ...obj('Cluster', 'a', 1), metadata: { name: 'a', namespace: '', generation: 1, deletionTimestamp: '2025-06-01T12:00:00Z', finalizers: ['agent.outpost.dev/site.s'] } };
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 1) }] });
    expect(state.apply({ snapshot: false, revision: 2, changes: [{ key: key('Cluster', 'a'), object: deleting }] })).toEqual([{ key: key('Cluster', 'a'), object: deleting, previous: obj('Cluster', 'a', 1), deleted: false, beingDeleted: true }]);
    expect(state.beingDeleted()).toEqual([deleting]);
    expect(state.unreconciled()).toEqual([]);
    state.forget(key('Cluster', 'a'));
    // Still in the view (the hub has not removed it yet), but nothing left to finalize.
    expect(state.get(key('Cluster', 'a'))).toEqual(deleting);
    expect(state.beingDeleted()).toEqual([]);
    const changed = { ...deleting, metadata: { ...deleting.metadata, finalizers: ['other.example/x'] } };
    expect(state.apply({ snapshot: false, revision: 3, changes: [{ key: key('Cluster', 'a'), object: changed }] })).toEqual([{ key: key('Cluster', 'a'), object: changed, previous: deleting, deleted: false, beingDeleted: true, finalized: true }]);
    expect(state.apply({ snapshot: false, revision: 4, changes: [{ key: key('Cluster', 'a') }] })).toEqual([{ key: key('Cluster', 'a'), object: changed, deleted: true, beingDeleted: true, finalized: true }]);
    expect([state.tombstones(), state.list()]).toEqual([[], []]);
  });

  it('lets an object that comes back replace its tombstone, unreconciled', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 3) }] });
    state.markReconciled(key('Cluster', 'a'), 3);
    state.apply({ snapshot: false, revision: 2, changes: [{ key: key('Cluster', 'a') }] });
    expect(state.apply({ snapshot: true, revision: 3, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 3) }] })).toEqual([{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 3), deleted: false }]);
    expect(state.tombstones()).toEqual([]);
    expect(state.unreconciled().map((o) => o.metadata.name)).toEqual(['a']);
    // forget() of an object in the view that is not being deleted changes nothing.
    state.forget(key('Cluster', 'a'));
    expect(state.list().map((o) => o.metadata.name)).toEqual(['a']);
  });
});

describe('SqliteLocalState', () => {
  let dir: string;
  let path: string;
  let state: SqliteLocalState;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-state-'));
    path = join(dir, 'state.db');
    state = new SqliteLocalState(path);
  });
  afterEach(() => {
    state.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives a reopen: objects, revision, reconciled generations and the status outbox', () => {
    state.apply({ snapshot: false, revision: 5, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 2) }, { key: key('Cluster', 'b'), object: obj('Cluster', 'b', 1) }] });
    state.markReconciled(key('Cluster', 'a'), 2);
    const s1 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, cluster: { observedGeneration: 1 } });
    const s2 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, cluster: { observedGeneration: 2 } });
    const s3 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'b' }, cluster: { observedGeneration: 1 } });
    expect([s1, s2, s3]).toEqual([1, 2, 3]);
    state.close();
    state = new SqliteLocalState(path);
    expect(state.revision()).toBe(5);
    expect(state.unreconciled().map((o) => o.metadata.name)).toEqual(['b']);
    // the newer status for a replaced the older one
    expect(state.pendingStatuses().map((s) => [s.ref?.name, s.seq])).toEqual([['a', 2], ['b', 3]]);
    state.statusesStored(2);
    expect(state.pendingStatuses().map((s) => s.seq)).toEqual([3]);
  });

  it('reads outbox rows an agent wrote before Status was typed, and skips rows that are no status', () => {
    state.close();
    const db = new Database(path);
    const early = (seq: number, body: object) => db.prepare(`INSERT INTO status_outbox (kind, namespace, name, seq, body) VALUES (?, ?, ?, ?, ?)`)
      .run((body as { ref?: { kind: string } }).ref?.kind ?? 'x', 'p', `n${seq}`, seq, JSON.stringify({ ...body, seq }));
    const conditions = [{ type: 'Received', status: 'True', lastTransitionTime: '2025-01-02T03:04:05Z' }];
    early(1, { ref: { kind: 'Cluster', namespace: 'p', name: 'n1' }, observedGeneration: 3, phase: 'Running', conditions, endpoint: 'https://e' });
    early(2, { ref: { kind: 'Host', name: 'n2' }, observedGeneration: 1, conditions });
    early(3, { ref: { kind: 'Datacenter', name: 'n3' }, phase: 'Running' });
    db.prepare(`INSERT INTO status_outbox (kind, namespace, name, seq, body) VALUES ('Cluster', 'p', 'n4', 4, 'not json')`).run();
    db.close();
    state = new SqliteLocalState(path);
    expect(state.pendingStatuses()).toEqual([
      { seq: 1, ref: { kind: 'Cluster', namespace: 'p', name: 'n1' }, cluster: { observedGeneration: 3, conditions, phase: 'Running', endpoint: 'https://e' } },
      { seq: 2, ref: { kind: 'Host', name: 'n2' }, host: { observedGeneration: 1, conditions } },
    ]);
    // The unreadable rows go with the first Ack past them.
    state.statusesStored(4);
    state.close();
    const after = new Database(path);
    expect(after.prepare(`SELECT count(*) AS n FROM status_outbox`).get()).toEqual({ n: 0 });
    after.close();
    state = new SqliteLocalState(path);
  });

  it('survives a reopen: tombstones, finalized objects being deleted, and a queued release', () => {
    const deleting = { ...obj('Cluster', 'b', 1), metadata: { name: 'b', namespace: '', generation: 1, deletionTimestamp: '2025-06-01T12:00:00Z' } };
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Cluster', 'a'), object: obj('Cluster', 'a', 1) }, { key: key('Cluster', 'b'), object: deleting }, { key: key('Cluster', 'c'), object: { ...deleting, metadata: { ...deleting.metadata, name: 'c' } } }] });
    state.apply({ snapshot: false, revision: 2, changes: [{ key: key('Cluster', 'a') }] });
    state.enqueueStatus({ ref: { kind: 'Cluster', namespace: '', name: 'b' }, finalized: true });
    state.forget(key('Cluster', 'b'));
    state.close();
    state = new SqliteLocalState(path);
    expect(state.tombstones().map((o) => o.metadata.name)).toEqual(['a']);
    expect(state.beingDeleted().map((o) => o.metadata.name)).toEqual(['c']);
    // The release is read back from the outbox as a release, and is no report of the object's status.
    expect(state.pendingStatuses()).toEqual([{ seq: 1, ref: { kind: 'Cluster', namespace: '', name: 'b' }, finalized: true }]);
    expect(state.lastReported(key('Cluster', 'b'))).toBeUndefined();
  });
});
