// The CAs the hub delivered for the Clusters this agent serves, in the agent's owner-only state file
// (db.ts), keyed by the Cluster's uid: a Cluster deleted and made again under its name has new ones. Read
// by reconcilers as ClusterSecrets. For a hosted Cluster whose static workers a site agent joins, the row
// holds the join secrets the hub sent instead (a token and the CA's hash: never the CAs). Kept until the Cluster is finalized or forgotten (prune). Nothing here
// logs: the values are private keys.
import type { ClusterKeys, JoinSecrets } from '@outpost/proto';
import type Database from 'better-sqlite3';
import type { ClusterSecrets } from '../reconcile/reconciler.js';
import type { ObjectKey } from './local-state.js';

export class SqliteClusterKeys implements ClusterSecrets {
  private readonly stmts;
  /** uids a reader asked for before their keys were here: only those readers need to run again. */
  private readonly missed = new Set<string>();

  constructor(db: Database.Database) {
    this.stmts = {
      get: db.prepare<[string], { body: string }>(`SELECT body FROM cluster_keys WHERE uid = ?`),
      put: db.prepare<[string, string, string, string]>(
        `INSERT INTO cluster_keys (uid, namespace, name, body) VALUES (?, ?, ?, ?) ON CONFLICT (uid) DO UPDATE SET body = excluded.body`,
      ),
      uids: db.prepare<[], { uid: string }>(`SELECT uid FROM cluster_keys ORDER BY uid`),
      // Keys are kept while a Cluster of that uid is held and not yet finalized: a tombstone being torn
      // down may still need them, a finalized or dropped one never does.
      prune: db.prepare(
        `DELETE FROM cluster_keys WHERE uid NOT IN (
           SELECT json_extract(body, '$.metadata.uid') FROM objects WHERE kind = 'Cluster' AND finalized = 0 AND json_extract(body, '$.metadata.uid') IS NOT NULL)`,
      ),
    };
  }

  clusterKeys(uid: string): ClusterKeys | undefined {
    const body = this.body(uid);
    return body && 'ca' in body ? body : undefined;
  }

  clusterJoin(uid: string): JoinSecrets | undefined {
    const body = this.body(uid);
    return body && 'join' in body ? body.join : undefined;
  }

  private body(uid: string): ClusterKeys | { join: JoinSecrets } | undefined {
    const row = this.stmts.get.get(uid);
    if (!row) this.missed.add(uid);
    return row ? (JSON.parse(row.body) as ClusterKeys | { join: JoinSecrets }) : undefined;
  }

  /** Whether a reader found no keys for `uid` since the last put; a put clears it. */
  wasMissed(uid: string): boolean {
    return this.missed.has(uid);
  }

  has(uid: string): boolean {
    return this.stmts.get.get(uid) !== undefined;
  }

  put(uid: string, cluster: ObjectKey, keys: ClusterKeys | { join: JoinSecrets }): void {
    this.stmts.put.run(uid, cluster.namespace, cluster.name, JSON.stringify(keys));
    this.missed.delete(uid);
  }

  /** The uids keys are held for (tests, health). */
  uids(): string[] {
    return this.stmts.uids.all().map((r) => r.uid);
  }

  /** Drops the keys of every Cluster no longer held, or finalized. Returns how many. */
  prune(): number {
    return this.stmts.prune.run().changes;
  }
}
