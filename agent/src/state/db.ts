// Opens the agent's state.db and brings its schema up to date.
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** state.db was written by a newer agent: this one would misread it. */
export class StateSchemaError extends Error {
  override readonly name = 'StateSchemaError';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(`${path} has schema version ${found}, newer than this agent knows (${known}); run the newer agent again, or move the file away to start from a fresh snapshot of the hub`);
  }
}

export function openStateDb(path: string): Db {
  ownerOnly(path);
  const db = new Database(path);
  try {
    // WAL with synchronous=NORMAL loses nothing when the process is killed; only a power cut can lose the
    // last transactions, and the hub resends what was not acked.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, path);
    ownerOnly(path);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * state.db holds the agent's view (hosts, SSH keys, cluster CAs): it, its WAL and -shm are the agent
 * user's alone (0600), and so is the directory they are in (0700: SQLite makes and deletes the WAL and
 * -shm there, and a journal a stranger could replace is one they could write). The file is made before
 * SQLite makes it with the umask's mode (SQLite gives the WAL and -shm the database file's); modes left
 * open by an older agent, or a data directory made by hand, are fixed at each start.
 */
function ownerOnly(path: string): void {
  chmodSync(dirname(path), 0o700);
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) throw new StateSchemaError(path, current, MIGRATIONS.length);
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
