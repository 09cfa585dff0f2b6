// The agent's durable state in one SQLite file (DIR/state.db). A batch and its revision commit together,
// so an agent killed at any point resumes from a revision whose objects it really holds. The schema is in
// migrations.ts.
import type { ResourceObject } from '@outpost/proto';
import { SqliteClusterHosts } from './cluster-hosts.js';
import { SqliteClusterKeys } from './cluster-key-store.js';
import { openStateDb, type Db } from './db.js';
import { SqliteFlowJournal } from './sqlite-flow-journal.js';
import {
  isFinalizedReport, keyOf, keyOfRef,
  type AppliedChange, type ChangeBatch, type LocalState, type ObjectKey, type OutboxReport, type PendingStatus, type StatusReport,
} from './local-state.js';
import { readOutboxRow } from './outbox-row.js';
import { rowChange, type StoredRow } from './row-change.js';

interface BodyRow {
  body: string;
}

interface ObjectRow extends BodyRow {
  reconciled_generation: number;
  tombstone: number;
  finalized: number;
}

type Key = [kind: string, namespace: string, name: string];

const keyArgs = (k: ObjectKey): Key => [k.kind, k.namespace, k.name];
const bodies = (rows: BodyRow[]): ResourceObject[] => rows.map((r) => JSON.parse(r.body) as ResourceObject);
const BEING_DELETED = `coalesce(json_extract(body, '$.metadata.deletionTimestamp'), '') <> ''`;

export class SqliteLocalState implements LocalState {
  private readonly db: Db;
  private journal: SqliteFlowJournal | undefined;
  private readonly keys: SqliteClusterKeys;
  private readonly hosts: SqliteClusterHosts;
  private readonly stmts;

  constructor(path: string) {
    this.db = openStateDb(path);
    const db = this.db;
    this.keys = new SqliteClusterKeys(db);
    this.hosts = new SqliteClusterHosts(db);
    this.stmts = {
      meta: db.prepare<[string], { value: number }>(`SELECT value FROM meta WHERE key = ?`),
      setMeta: db.prepare<[number, string]>(`UPDATE meta SET value = ? WHERE key = ?`),
      row: db.prepare<Key, ObjectRow>(`SELECT body, reconciled_generation, tombstone, finalized FROM objects WHERE kind = ? AND namespace = ? AND name = ?`),
      put: db.prepare<[...Key, string, number, number, number, number]>(
        `INSERT INTO objects (kind, namespace, name, body, generation, reconciled_generation, tombstone, finalized) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body, generation = excluded.generation,
           reconciled_generation = excluded.reconciled_generation, tombstone = excluded.tombstone, finalized = excluded.finalized`,
      ),
      drop: db.prepare<Key>(`DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?`),
      live: db.prepare<[], BodyRow>(`SELECT body FROM objects WHERE tombstone = 0 ORDER BY kind, namespace, name`),
      liveOfKind: db.prepare<[string], BodyRow>(`SELECT body FROM objects WHERE tombstone = 0 AND kind = ? ORDER BY namespace, name`),
      unreconciled: db.prepare<[], BodyRow>(`SELECT body FROM objects WHERE tombstone = 0 AND reconciled_generation < generation AND NOT ${BEING_DELETED}`),
      markReconciled: db.prepare<[number, ...Key]>(`UPDATE objects SET reconciled_generation = ? WHERE kind = ? AND namespace = ? AND name = ? AND tombstone = 0`),
      tombstones: db.prepare<[], BodyRow>(`SELECT body FROM objects WHERE tombstone = 1 ORDER BY kind, namespace, name`),
      beingDeleted: db.prepare<[], BodyRow>(`SELECT body FROM objects WHERE tombstone = 0 AND finalized = 0 AND ${BEING_DELETED} ORDER BY kind, namespace, name`),
      dropTombstone: db.prepare<Key>(`DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ? AND tombstone = 1`),
      markFinalized: db.prepare<Key>(`UPDATE objects SET finalized = 1 WHERE kind = ? AND namespace = ? AND name = ? AND tombstone = 0 AND ${BEING_DELETED}`),
      enqueueStatus: db.prepare<[...Key, number, string]>(
        `INSERT INTO status_outbox (kind, namespace, name, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET seq = excluded.seq, body = excluded.body`,
      ),
      putLast: db.prepare<[...Key, string]>(`INSERT INTO last_status (kind, namespace, name, body) VALUES (?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET body = excluded.body`),
      last: db.prepare<Key, BodyRow>(`SELECT body FROM last_status WHERE kind = ? AND namespace = ? AND name = ?`),
      dropLast: db.prepare<Key>(`DELETE FROM last_status WHERE kind = ? AND namespace = ? AND name = ?`),
      pendingStatuses: db.prepare<[], BodyRow>(`SELECT body FROM status_outbox ORDER BY seq`),
      statusesStored: db.prepare<[number]>(`DELETE FROM status_outbox WHERE seq <= ?`),
      bundleImported: db.prepare<[string], { target_revision: number }>(`SELECT target_revision FROM bundles_imported WHERE id = ?`),
      recordBundle: db.prepare<[string, number, string]>(`INSERT INTO bundles_imported (id, target_revision, imported) VALUES (?, ?, ?)`),
    };
  }

  revision(): number {
    return this.meta('revision');
  }

  apply(batch: ChangeBatch): AppliedChange[] {
    return this.db.transaction((): AppliedChange[] => {
      const applied: AppliedChange[] = [];
      const seen = new Set<string>();
      const change = (key: ObjectKey, object: ResourceObject | undefined): void => {
        const ch = rowChange(key, this.row(key), object);
        if (!ch) return;
        if (ch.row) {
          const r = ch.row;
          this.stmts.put.run(...keyArgs(key), JSON.stringify(r.object), r.object.metadata.generation ?? 0, r.reconciled, Number(r.tombstone), Number(r.finalized));
        } else this.stmts.drop.run(...keyArgs(key));
        // Gone from the view: a new object of that name starts without a last report.
        if (ch.applied.deleted) this.stmts.dropLast.run(...keyArgs(key));
        applied.push(ch.applied);
      };
      for (const ch of batch.changes) {
        seen.add(JSON.stringify(keyArgs(ch.key)));
        change(ch.key, ch.object);
      }
      if (batch.snapshot) {
        for (const o of this.list()) {
          const k = keyOf(o);
          if (!seen.has(JSON.stringify(keyArgs(k)))) change(k, undefined);
        }
      }
      this.setMeta('revision', batch.revision);
      // A Cluster replaced under its name (a new uid) leaves its old CAs behind otherwise.
      if (applied.some((a) => a.key.kind === 'Cluster')) this.prune();
      return applied;
    })();
  }

  get(key: ObjectKey): ResourceObject | undefined {
    const row = this.row(key);
    return row && !row.tombstone ? row.object : undefined;
  }

  list(kind?: string): ResourceObject[] {
    return bodies(kind ? this.stmts.liveOfKind.all(kind) : this.stmts.live.all());
  }

  unreconciled(): ResourceObject[] {
    return bodies(this.stmts.unreconciled.all());
  }

  markReconciled(key: ObjectKey, generation: number): void {
    this.stmts.markReconciled.run(generation, ...keyArgs(key));
  }

  tombstones(): ResourceObject[] {
    return bodies(this.stmts.tombstones.all());
  }

  beingDeleted(): ResourceObject[] {
    return bodies(this.stmts.beingDeleted.all());
  }

  forget(key: ObjectKey): void {
    this.db.transaction(() => {
      if (this.stmts.dropTombstone.run(...keyArgs(key)).changes === 0) this.stmts.markFinalized.run(...keyArgs(key));
      // A finalized Cluster's CAs and host records go with it, in the same commit.
      if (key.kind === 'Cluster') this.prune();
    })();
  }

  enqueueStatus(report: OutboxReport): number {
    return this.db.transaction(() => {
      const seq = this.meta('status_seq') + 1;
      this.setMeta('status_seq', seq);
      const k = keyArgs(keyOfRef(report.ref));
      const body = JSON.stringify({ ...report, seq });
      this.stmts.enqueueStatus.run(...k, seq, body);
      if (!isFinalizedReport(report)) this.stmts.putLast.run(...k, body);
      return seq;
    })();
  }

  lastReported(key: ObjectKey): StatusReport | undefined {
    const row = this.stmts.last.get(...keyArgs(key));
    const pending = row && readOutboxRow(row.body);
    if (!pending || isFinalizedReport(pending)) return undefined;
    const { seq: _seq, ...report } = pending;
    return report;
  }

  pendingStatuses(): PendingStatus[] {
    // Tolerant: rows of an older agent are read into the typed form; one that is no status is skipped.
    return this.stmts.pendingStatuses.all().flatMap((r) => readOutboxRow(r.body) ?? []);
  }

  statusesStored(seq: number): void {
    this.stmts.statusesStored.run(seq);
  }

  /** The CAs the hub delivered, in the same file (owner-only); a Cluster's go when it is forgotten. */
  clusterKeys(): SqliteClusterKeys {
    return this.keys;
  }

  /** The hosts the site's reconcilers set up for each Cluster, in the same file; a Cluster's go when it is forgotten. */
  clusterHosts(): SqliteClusterHosts {
    return this.hosts;
  }

  /** Runs `fn` in one transaction: a bundle's changes, its record and the statuses it clears commit together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Whether the bundle `id` was imported already. */
  bundleImported(id: string): boolean {
    return this.stmts.bundleImported.get(id) !== undefined;
  }

  recordBundle(id: string, targetRevision: number, imported: string): void {
    this.stmts.recordBundle.run(id, targetRevision, imported);
  }

  /** The flows' journal, in the same file: a step's row commits beside the state it changed. */
  flowJournal(): SqliteFlowJournal {
    return (this.journal ??= new SqliteFlowJournal(this.db));
  }

  close(): void {
    this.db.close();
  }

  private prune(): void {
    this.keys.prune();
    this.hosts.prune();
  }

  private row(key: ObjectKey): StoredRow | undefined {
    const r = this.stmts.row.get(...keyArgs(key));
    if (!r) return undefined;
    return { object: JSON.parse(r.body) as ResourceObject, reconciled: r.reconciled_generation, tombstone: r.tombstone === 1, finalized: r.finalized === 1 };
  }

  private meta(key: string): number {
    return this.stmts.meta.get(key)!.value;
  }

  private setMeta(key: string, value: number): void {
    this.stmts.setMeta.run(value, key);
  }
}
