// Reads what an agent process has persisted, from its SQLite file, read-only, while it runs.
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface StoredObject {
  kind: string;
  namespace: string;
  name: string;
  generation: number;
}

export function agentObjects(dataDir: string): StoredObject[] {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT kind, namespace, name, generation FROM objects ORDER BY kind, namespace, name`).all() as StoredObject[];
  } finally {
    db.close();
  }
}

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
