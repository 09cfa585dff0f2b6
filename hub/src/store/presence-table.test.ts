// The presence table: written without revisions, merged into Agent status on read, reset in one UPDATE.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '@outpost/proto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { withPresence } from './presence-table.js';
import { Store } from './store.js';

const ctx = { actor: 'test' };
const agent = (name: string): Agent => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Agent', metadata: { name }, spec: { role: 'site', site: name } });
const key = (name: string) => ({ kind: 'Agent', namespace: '', name });

describe('PresenceTable', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-presence-'));
    store = new Store(join(dir, 'hub.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes presence without a revision, a change-log row, a view change or an audit row', () => {
    store.create(agent('a1'), ctx);
    const revision = store.revision();
    const audit = store.auditCount();
    const written = store.presence.write([
      ['a1', { connected: true, version: '1.2.3', address: '127.0.0.9', connectedSince: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z' }],
    ]);
    expect(written.get('a1')).toEqual({ connected: true, version: '1.2.3', address: '127.0.0.9', connectedSince: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z', ackedRevision: 0, sshPublicKey: '' });
    // A later patch sets its fields and keeps the others.
    store.presence.write([['a1', { ackedRevision: 7, lastSeen: '2026-01-01T00:01:00Z' }]]);
    expect(store.presence.get('a1')).toEqual({ connected: true, version: '1.2.3', address: '127.0.0.9', connectedSince: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:01:00Z', ackedRevision: 7, sshPublicKey: '' });
    expect(store.revision()).toBe(revision);
    expect(store.changesSince(revision)).toEqual([]);
    expect(store.auditCount()).toBe(audit);
    expect(store.get<Agent>('Agent', '', 'a1')?.status).toBeUndefined();
    expect(store.get<Agent>('Agent', '', 'a1')?.metadata.resourceVersion).toBe(String(revision));
  });

  it('skips an agent with no Agent object and drops the row when the Agent is deleted', () => {
    store.create(agent('a1'), ctx);
    const written = store.presence.write([['gone', { connected: true }], ['a1', { connected: true }]]);
    expect([...written.keys()]).toEqual(['a1']);
    expect(store.presence.get('gone')).toBeUndefined();
    store.delete(key('a1'), ctx);
    expect(store.presence.get('a1')).toBeUndefined();
  });

  it('marks every agent disconnected in one UPDATE', () => {
    for (const n of ['a1', 'a2', 'a3']) store.create(agent(n), ctx);
    store.presence.write([['a1', { connected: true }], ['a2', { connected: true }], ['a3', { connected: false }]]);
    const revision = store.revision();
    expect(store.presence.disconnectAll()).toBe(2);
    expect([...store.presence.all().values()].map((p) => p.connected)).toEqual([false, false, false]);
    expect(store.revision()).toBe(revision);
  });

  it('merges presence into status on read, and keeps it out of the Agent object on a status write', () => {
    store.create(agent('a1'), ctx);
    expect(withPresence(store.mustGet<Agent>('Agent', '', 'a1'), undefined).status).toEqual({ connected: false, ackedRevision: 0 });
    store.presence.write([['a1', { connected: true, ackedRevision: 4, version: '1.0.0' }]]);
    const condition = { type: 'Ready', status: 'True', reason: 'Test', message: '' };
    store.replaceStatus(key('a1'), { connected: false, ackedRevision: 99, lastSeen: 'x', conditions: [condition] }, ctx);
    const stored = store.mustGet<Agent>('Agent', '', 'a1');
    expect(stored.status).toEqual({ conditions: [condition] });
    expect(withPresence(stored, store.presence.get('a1')).status).toEqual({ connected: true, ackedRevision: 4, version: '1.0.0', conditions: [condition] });
  });

  it('moves the presence an older hub kept in Agent objects into the table', () => {
    const path = join(dir, 'old.db');
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 2)) db.exec(m);
    db.pragma('user_version = 2');
    const old = { ...agent('a1'), metadata: { name: 'a1', resourceVersion: '1' }, status: { connected: true, ackedRevision: 5, lastSeen: '2026-01-01T00:00:00Z', version: '0.9.0', address: '10.0.0.1', connectedSince: '2025-12-31T00:00:00Z', conditions: [] } };
    db.prepare(`INSERT INTO objects (kind, namespace, name, revision, body) VALUES ('Agent', '', 'a1', 1, ?)`).run(JSON.stringify(old));
    db.close();
    const migrated = new Store(path);
    try {
      expect(migrated.presence.get('a1')).toEqual({ connected: true, ackedRevision: 5, lastSeen: '2026-01-01T00:00:00Z', version: '0.9.0', address: '10.0.0.1', connectedSince: '2025-12-31T00:00:00Z', sshPublicKey: '' });
      expect(migrated.get<Agent>('Agent', '', 'a1')?.status).toEqual({ conditions: [] });
    } finally {
      migrated.close();
    }
  });
});
