// Migrations of state.db: a file written before migrations existed, a fresh one, and one from a newer agent.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb, StateSchemaError } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteLocalState } from './sqlite-local-state.js';

/** The schema the first agents created, verbatim, before state.db had migrations (user_version stays 0). */
const SCHEMA_V0 = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('status_seq', 0);
  CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    body TEXT NOT NULL, generation INTEGER NOT NULL, reconciled_generation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS status_outbox (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
`;

const cluster = (name: string, generation: number) => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', generation }, spec: {} });

describe('state.db migrations', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-db-'));
    path = join(dir, 'state.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('brings a file of the schema before migrations up to date, keeping what it held', () => {
    const old = new Database(path);
    old.exec(SCHEMA_V0);
    old.prepare(`UPDATE meta SET value = 41 WHERE key = 'revision'`).run();
    old.prepare(`UPDATE meta SET value = 7 WHERE key = 'status_seq'`).run();
    const ins = old.prepare(`INSERT INTO objects (kind, namespace, name, body, generation, reconciled_generation) VALUES ('Cluster', 'p', ?, ?, ?, ?)`);
    ins.run('done', JSON.stringify(cluster('done', 2)), 2, 2);
    ins.run('todo', JSON.stringify(cluster('todo', 3)), 3, 1);
    old.prepare(`INSERT INTO status_outbox (kind, namespace, name, seq, body) VALUES ('Cluster', 'p', 'done', 7, ?)`).run(JSON.stringify({ seq: 7, ref: { kind: 'Cluster', namespace: 'p', name: 'done' }, observedGeneration: 2 }));
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();

    const state = new SqliteLocalState(path);
    try {
      expect(state.revision()).toBe(41);
      expect(state.list().map((o) => o.metadata.name)).toEqual(['done', 'todo']);
      expect(state.unreconciled().map((o) => o.metadata.name)).toEqual(['todo']);
      expect(state.pendingStatuses().map((s) => s.seq)).toEqual([7]);
      expect(state.enqueueStatus({ ref: { kind: 'Cluster', namespace: 'p', name: 'todo' }, cluster: { observedGeneration: 3 } })).toBe(8);
      // The new columns work on the old rows: a removal keeps a tombstone.
      state.apply({ snapshot: false, revision: 42, changes: [{ key: { kind: 'Cluster', namespace: 'p', name: 'done' } }] });
      expect(state.tombstones().map((o) => o.metadata.name)).toEqual(['done']);
    } finally {
      state.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('makes a fresh file at the latest version, and reopens it without change', () => {
    openStateDb(path).close();
    const db = openStateDb(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare(`SELECT name FROM pragma_table_info('objects') ORDER BY cid`).all().map((r) => (r as { name: string }).name)).toEqual([
      'kind', 'namespace', 'name', 'body', 'generation', 'reconciled_generation', 'tombstone', 'finalized',
    ]);
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).all().map((r) => (r as { name: string }).name)).toEqual([
      'bundles_imported', 'cluster_hosts', 'cluster_keys', 'flow_journal', 'last_status', 'meta', 'objects', 'status_outbox',
    ]);
    db.close();
  });

  it('refuses a file from a newer agent, saying what to do, and leaves it alone', () => {
    const newer = new Database(path);
    newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    newer.close();
    expect(() => new SqliteLocalState(path)).toThrow(StateSchemaError);
    expect(() => openStateDb(path)).toThrow(new RegExp(`has schema version ${MIGRATIONS.length + 1}, newer than this agent knows \\(${MIGRATIONS.length}\\); run the newer agent again`));
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    db.close();
  });
});

describe('state.db file modes', () => {
  const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-state-modes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes state.db and its WAL readable by the agent user only, and fixes a mode an older agent left open', () => {
    const file = join(dir, 'state.db');
    const files = [file, `${file}-wal`, `${file}-shm`];
    const db = openStateDb(file);
    db.prepare(`INSERT INTO meta (key, value) VALUES ('probe', 1)`).run();
    expect(files.map(mode)).toEqual(['600', '600', '600']);
    db.close();
    chmodSync(file, 0o644);
    const reopened = openStateDb(file);
    reopened.prepare(`UPDATE meta SET value = 2 WHERE key = 'probe'`).run();
    expect(files.map(mode)).toEqual(['600', '600', '600']);
    reopened.close();
  });

  it('makes the data directory the agent user\'s alone (0700), a directory made by hand too', () => {
    chmodSync(dir, 0o755);
    openStateDb(join(dir, 'state.db')).close();
    expect(mode(dir)).toBe('700');
  });
});
