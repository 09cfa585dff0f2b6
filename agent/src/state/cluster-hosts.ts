// The hosts a site agent set up for each kubeadm Cluster, in its state file, keyed by the Cluster's uid:
// which host, in which role, whether its join began, and how the agent reached it. A host taken out of the
// Cluster is torn down from this record, even when its Host object was deleted at the hub too. Rows go as
// each host is torn down, and all of a Cluster's once it is finalized (prune).
import type Database from 'better-sqlite3';
import type { HostRecord, HostRecords } from '../reconcile/reconciler.js';

interface Row {
  host: string;
  role: string;
  joined: number;
  target: string;
}

export class SqliteClusterHosts implements HostRecords {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      list: db.prepare<[string], Row>(`SELECT host, role, joined, target FROM cluster_hosts WHERE cluster_uid = ? ORDER BY host`),
      put: db.prepare<[string, string, string, string, string, number, string]>(
        `INSERT INTO cluster_hosts (cluster_uid, host, namespace, name, role, joined, target) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (cluster_uid, host) DO UPDATE SET role = excluded.role, joined = excluded.joined, target = excluded.target`,
      ),
      remove: db.prepare<[string, string]>(`DELETE FROM cluster_hosts WHERE cluster_uid = ? AND host = ?`),
      // As the CAs are kept (cluster-key-store.ts): while a Cluster of that uid is held and not finalized.
      prune: db.prepare(
        `DELETE FROM cluster_hosts WHERE cluster_uid NOT IN (
           SELECT json_extract(body, '$.metadata.uid') FROM objects WHERE kind = 'Cluster' AND finalized = 0 AND json_extract(body, '$.metadata.uid') IS NOT NULL)`,
      ),
    };
  }

  list(clusterUid: string): HostRecord[] {
    return this.stmts.list.all(clusterUid).map((r) => ({ host: r.host, role: r.role, joined: r.joined === 1, target: r.target }));
  }

  put(cluster: { uid: string; namespace: string; name: string }, r: HostRecord): void {
    this.stmts.put.run(cluster.uid, r.host, cluster.namespace, cluster.name, r.role, Number(r.joined), r.target);
  }

  remove(clusterUid: string, host: string): void {
    this.stmts.remove.run(clusterUid, host);
  }

  /** Drops the rows of every Cluster no longer held, or finalized. Returns how many. */
  prune(): number {
    return this.stmts.prune.run().changes;
  }
}
