// What a test reads of a running hub process from outside, to show an attack did no harm: whether
// /healthz answers, the process's resident memory, and what it wrote to disk.
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { TestHub } from './processes.js';

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** The time /healthz took to answer 200, in ms; rejects on any other answer or after `timeoutMs`. */
export function healthz(hub: TestHub, timeoutMs = 2000): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(new URL('/healthz', hub.url), { ca: hub.caCertPem, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`/healthz answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`/healthz did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** hub.db with its write-ahead log, in bytes. */
export function dbBytes(hub: TestHub): number {
  const db = join(hub.dataDir, 'hub.db');
  let bytes = statSync(db).size;
  try {
    bytes += statSync(`${db}-wal`).size;
  } catch {
    // no WAL right now
  }
  return bytes;
}

/** Counts in the hub's store, read-only while it runs (WAL lets a reader in beside the writer). */
export function storeCounts(hub: TestHub): { revision: number; audit: number; changes: number } {
  const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      revision: one(`SELECT value AS n FROM meta WHERE key = 'revision'`),
      audit: one(`SELECT count(*) AS n FROM audit`),
      changes: one(`SELECT count(*) AS n FROM changes`),
    };
  } finally {
    db.close();
  }
}
