// The cluster CAs an agent process keeps in its state file (the cluster_keys table), read-only while it runs.
import { join } from 'node:path';
import type { ClusterKeys } from '@outpost/proto';
import Database from 'better-sqlite3';

/** uid -> the keys the agent holds. */
export function agentClusterKeys(dataDir: string): Map<string, ClusterKeys> {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT uid, body FROM cluster_keys ORDER BY uid`).all() as Array<{ uid: string; body: string }>;
    return new Map(rows.map((r) => [r.uid, JSON.parse(r.body) as ClusterKeys]));
  } finally {
    db.close();
  }
}
