import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, observedGeneration: 1 });
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, observedGeneration: 2 });
    state.enqueueStatus({ ref: { kind: 'Cluster', name: 'b' }, observedGeneration: 1 });
    expect(state.pendingStatuses().map((s) => [s.ref?.name, s.seq, s.observedGeneration])).toEqual([['a', 2, 2], ['b', 3, 1]]);
    state.statusesStored(2);
    expect(state.pendingStatuses().map((s) => s.seq)).toEqual([3]);
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
    expect(again).toEqual([{ key: key('Host', 'h'), deleted: true }]);
    expect(state.revision()).toBe(4);
    expect(state.list().map((o) => o.metadata.name)).toEqual(['s']);
  });

  it('treats a snapshot as the whole view: what it lacks is deleted', () => {
    state.apply({ snapshot: false, revision: 1, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }, { key: key('Host', 'h'), object: obj('Host', 'h') }] });
    const applied = state.apply({ snapshot: true, revision: 9, changes: [{ key: key('Site', 's'), object: obj('Site', 's') }] });
    expect(applied).toEqual([{ key: key('Host', 'h'), deleted: true }]);
    expect(state.revision()).toBe(9);
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
    const s1 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, observedGeneration: 1 });
    const s2 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'a' }, observedGeneration: 2 });
    const s3 = state.enqueueStatus({ ref: { kind: 'Cluster', name: 'b' }, observedGeneration: 1 });
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
});
