// Reads what an agent process has persisted, from its SQLite file, read-only, while it runs.
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface StoredObject {
  kind: string;
  namespace: string;
  name: string;
  generation: number;
}

function storedObjects(dataDir: string, tombstone: 0 | 1): StoredObject[] {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT kind, namespace, name, generation FROM objects WHERE tombstone = ? ORDER BY kind, namespace, name`).all(tombstone) as StoredObject[];
  } finally {
    db.close();
  }
}

/** Objects in the agent's view (not tombstones). */
export const agentObjects = (dataDir: string): StoredObject[] => storedObjects(dataDir, 0);

/** Objects the agent keeps as tombstones: gone from its view, their finalize not yet done. */
export const agentTombstones = (dataDir: string): StoredObject[] => storedObjects(dataDir, 1);

export function agentRevision(dataDir: string): number {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT value FROM meta WHERE key = 'revision'`).get() as { value: number }).value;
  } finally {
    db.close();
  }
}

export const names = (objs: StoredObject[]): string[] => objs.map((o) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`);

/** The status an agent last queued for an object (its last_status row), as JSON. */
export function agentLastStatus(dataDir: string, kind: string, namespace: string, name: string): unknown {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare(`SELECT body FROM last_status WHERE kind = ? AND namespace = ? AND name = ?`).get(kind, namespace, name) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : undefined;
  } finally {
    db.close();
  }
}
