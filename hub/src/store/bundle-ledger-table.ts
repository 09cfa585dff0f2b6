// What the hub remembers of air-gapped bundles, beside the objects (no revision, no change-log row): the
// bundles it made for each agent, with the blobs they carried, and per agent the highest status seq a
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
    this.putMade = db.prepare(`INSERT INTO bundles_made (id, agent_id, target_revision, blobs, created) VALUES (?, ?, ?, ?, ?)`);
    this.carried = db.prepare(`SELECT blobs FROM bundles_made WHERE agent_id = ? AND target_revision <= ?`);
    this.getSeq = db.prepare(`SELECT seq FROM bundle_status_seq WHERE agent_id = ?`);
    this.putSeq = db.prepare(`INSERT INTO bundle_status_seq (agent_id, seq) VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq`);
  }

  made(id: string, agentId: string, targetRevision: number, blobs: readonly string[], created: string): void {
    this.putMade.run(id, agentId, targetRevision, JSON.stringify(blobs), created);
  }

  /**
   * Every blob digest the hub's bundles for `agentId` up to `revision` carried (an agent enrolled afresh
   * starts with an empty cache, so only its own bundles count).
   */
  carriedUpTo(agentId: string, revision: number): Set<string> {
    const out = new Set<string>();
    for (const r of this.carried.all(agentId, revision)) for (const d of JSON.parse(r.blobs) as string[]) out.add(d);
    return out;
  }

  statusSeq(agentId: string): number {
    return this.getSeq.get(agentId)?.seq ?? 0;
  }

  setStatusSeq(agentId: string, seq: number): void {
    this.putSeq.run(agentId, seq);
  }
}
