// What the hub remembers of air-gapped bundles, beside the objects (no revision, no change-log row): the
// bundles it made for each site, with the blobs they carried, and per agent the highest status seq a
// status bundle recorded. Written inside the store's transactions (the status bundle's statuses and its
// seq commit together).
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export class BundleLedgerTable {
  private readonly putMade: Statement<[string, string, number, string, string]>;
  private readonly carried: Statement<[string, number], { blobs: string }>;
  private readonly getSeq: Statement<[string], { seq: number }>;
  private readonly putSeq: Statement<[string, number]>;

  constructor(db: Db) {
    this.putMade = db.prepare(`INSERT INTO bundles_made (id, site, target_revision, blobs, created) VALUES (?, ?, ?, ?, ?)`);
    this.carried = db.prepare(`SELECT blobs FROM bundles_made WHERE site = ? AND target_revision <= ?`);
    this.getSeq = db.prepare(`SELECT seq FROM bundle_status_seq WHERE agent_id = ?`);
    this.putSeq = db.prepare(`INSERT INTO bundle_status_seq (agent_id, seq) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq`);
  }

  made(id: string, site: string, targetRevision: number, blobs: readonly string[], created: string): void {
    this.putMade.run(id, site, targetRevision, JSON.stringify(blobs), created);
  }

  /** Every blob digest the hub's bundles for `site` up to `revision` carried. */
  carriedUpTo(site: string, revision: number): Set<string> {
    const out = new Set<string>();
    for (const r of this.carried.all(site, revision)) for (const d of JSON.parse(r.blobs) as string[]) out.add(d);
    return out;
  }

  statusSeq(agentId: string): number {
    return this.getSeq.get(agentId)?.seq ?? 0;
  }

  setStatusSeq(agentId: string, seq: number): void {
    this.putSeq.run(agentId, seq);
  }
}
