// The agent's durable state in one SQLite file (DIR/state.db). A batch and its revision commit together,
// so an agent killed at any point resumes from a revision whose objects it really holds.
import { isDeepStrictEqual } from 'node:util';
import type { ResourceObject } from '@outpost/proto';
import Database from 'better-sqlite3';
import { keyOf, keyOfRef, type AppliedChange, type ChangeBatch, type LocalState, type ObjectKey, type PendingStatus, type StatusReport } from './local-state.js';
import { readOutboxRow } from './outbox-row.js';

const SCHEMA = `
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
  -- The last status queued per object, kept after the hub stores it: the reconcile manager stamps a
  -- condition's lastTransitionTime against it. Created on open, so an older state.db just gains it.
  CREATE TABLE IF NOT EXISTS last_status (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
`;

interface ObjRow {
  body: string;
}

export class SqliteLocalState implements LocalState {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  revision(): number {
    return this.meta('revision');
  }

  apply(batch: ChangeBatch): AppliedChange[] {
    return this.db.transaction((): AppliedChange[] => {
      const applied: AppliedChange[] = [];
      const seen = new Set<string>();
      for (const ch of batch.changes) {
        seen.add(JSON.stringify([ch.key.kind, ch.key.namespace, ch.key.name]));
        const current = this.get(ch.key);
        if (!ch.object) {
          if (current) {
            this.forget(ch.key);
            applied.push({ key: ch.key, deleted: true });
          }
          continue;
        }
        if (current && isDeepStrictEqual(current, ch.object)) continue;
        this.db
          .prepare(
            `INSERT INTO objects (kind, namespace, name, body, generation) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body, generation = excluded.generation`,
          )
          .run(ch.key.kind, ch.key.namespace, ch.key.name, JSON.stringify(ch.object), ch.object.metadata.generation ?? 0);
        applied.push({ key: ch.key, object: ch.object, deleted: false });
      }
      if (batch.snapshot) {
        for (const o of this.list()) {
          const k = keyOf(o);
          if (seen.has(JSON.stringify([k.kind, k.namespace, k.name]))) continue;
          this.forget(k);
          applied.push({ key: k, deleted: true });
        }
      }
      this.setMeta('revision', batch.revision);
      return applied;
    })();
  }

  get(key: ObjectKey): ResourceObject | undefined {
    const row = this.db.prepare<[string, string, string], ObjRow>(`SELECT body FROM objects WHERE kind = ? AND namespace = ? AND name = ?`).get(key.kind, key.namespace, key.name);
    return row ? (JSON.parse(row.body) as ResourceObject) : undefined;
  }

  list(kind?: string): ResourceObject[] {
    const rows = kind
      ? this.db.prepare<[string], ObjRow>(`SELECT body FROM objects WHERE kind = ? ORDER BY namespace, name`).all(kind)
      : this.db.prepare<[], ObjRow>(`SELECT body FROM objects ORDER BY kind, namespace, name`).all();
    return rows.map((r) => JSON.parse(r.body) as ResourceObject);
  }

  unreconciled(): ResourceObject[] {
    return this.db.prepare<[], ObjRow>(`SELECT body FROM objects WHERE reconciled_generation < generation`).all().map((r) => JSON.parse(r.body) as ResourceObject);
  }

  markReconciled(key: ObjectKey, generation: number): void {
    this.db.prepare(`UPDATE objects SET reconciled_generation = ? WHERE kind = ? AND namespace = ? AND name = ?`).run(generation, key.kind, key.namespace, key.name);
  }

  enqueueStatus(report: StatusReport): number {
    return this.db.transaction(() => {
      const seq = this.meta('status_seq') + 1;
      this.setMeta('status_seq', seq);
      const k = keyOfRef(report.ref);
      this.db
        .prepare(`INSERT INTO status_outbox (kind, namespace, name, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET seq = excluded.seq, body = excluded.body`)
        .run(k.kind, k.namespace, k.name, seq, JSON.stringify({ ...report, seq }));
      this.db
        .prepare(`INSERT INTO last_status (kind, namespace, name, body) VALUES (?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body`)
        .run(k.kind, k.namespace, k.name, JSON.stringify({ ...report, seq }));
      return seq;
    })();
  }

  lastReported(key: ObjectKey): StatusReport | undefined {
    const row = this.db.prepare<[string, string, string], ObjRow>(`SELECT body FROM last_status WHERE kind = ? AND namespace = ? AND name = ?`).get(key.kind, key.namespace, key.name);
    if (!row) return undefined;
    const pending = readOutboxRow(row.body);
    if (!pending) return undefined;
    const { seq: _seq, ...report } = pending;
    return report;
  }

  pendingStatuses(): PendingStatus[] {
    // Tolerant: rows of an older agent are read into the typed form; one that is no status is skipped.
    return this.db.prepare<[], ObjRow>(`SELECT body FROM status_outbox ORDER BY seq`).all().flatMap((r) => readOutboxRow(r.body) ?? []);
  }

  statusesStored(seq: number): void {
    this.db.prepare(`DELETE FROM status_outbox WHERE seq <= ?`).run(seq);
  }

  close(): void {
    this.db.close();
  }

  /** `k` left the view: its object goes, and so does its last report (a new object starts afresh). */
  private forget(k: ObjectKey): void {
    this.db.prepare(`DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?`).run(k.kind, k.namespace, k.name);
    this.db.prepare(`DELETE FROM last_status WHERE kind = ? AND namespace = ? AND name = ?`).run(k.kind, k.namespace, k.name);
  }

  private meta(key: string): number {
    return this.db.prepare<[string], { value: number }>(`SELECT value FROM meta WHERE key = ?`).get(key)!.value;
  }

  private setMeta(key: string, value: number): void {
    this.db.prepare(`UPDATE meta SET value = ? WHERE key = ?`).run(value, key);
  }
}
