// Opens the hub's SQLite file and brings its schema up to date.
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * `readonly`: for gateway processes, which read views while the primary alone writes (WAL lets readers in
 * other processes proceed during a write). A reader never migrates: it refuses a schema it does not know.
 */
export function openDb(path: string, opts: { readonly?: boolean } = {}): Db {
  if (opts.readonly) {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== MIGRATIONS.length) throw new Error(`hub.db has schema version ${version}, this hub reads ${MIGRATIONS.length}; start the hub's primary first`);
    return db;
  }
  ownerOnly(path);
  const db = new Database(path);
  // WAL: readers never block the writer. synchronous=NORMAL in WAL mode loses nothing when the process
  // is killed (the WAL is in the OS page cache); only a power cut can lose the last transactions.
  // OUTPOST_DB_SYNC=FULL trades write latency for surviving that too.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${process.env.OUTPOST_DB_SYNC === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  ownerOnly(path);
  return db;
}

/**
 * hub.db holds every object and the hashes of every credential: it, its WAL and its shared memory are
 * the hub user's alone (0600). The file is made before SQLite makes it (SQLite would take the umask,
 * 0644 by default, and gives the WAL and -shm the database file's mode); files left world-readable by
 * an older hub are fixed each time the hub opens them.
 */
function ownerOnly(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`hub.db has schema version ${current}, newer than this hub knows (${MIGRATIONS.length}); run a newer hub`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
