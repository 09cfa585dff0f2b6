// Each agent's encryption key (X25519, public half), learned from its Hello over the authenticated link
// (link-encryption-key.ts) or from its status bundle, whose MAC by the
// agent's credential says it is that agent's. Beside the objects (no revision, change-log row or audit
// row): it is the agent's word about itself, as presence is. The bundle writer seals the CAs of the
// agent's Clusters to it.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface AgentKeyRow {
  publicKeyPem: string;
  /** The time the status bundle that brought it says it was exported (RFC 3339). */
  exported: string;
  /** When the hub recorded it (RFC 3339). */
  learned: string;
}

export class AgentKeysTable {
  private readonly getKey: Statement<[string], { public_key: string; exported: string; learned: string }>;
  private readonly putKey: Statement<[string, string, string, string]>;
  private readonly delKey: Statement<[string]>;

  constructor(db: Db) {
    this.getKey = db.prepare(`SELECT public_key, exported, learned FROM agent_encryption_keys WHERE agent_id = ?`);
    this.putKey = db.prepare(
      `INSERT INTO agent_encryption_keys (agent_id, public_key, exported, learned) VALUES (?, ?, ?, ?)
       ON CONFLICT (agent_id) DO UPDATE SET public_key = excluded.public_key, exported = excluded.exported, learned = excluded.learned`,
    );
    this.delKey = db.prepare(`DELETE FROM agent_encryption_keys WHERE agent_id = ?`);
  }

  get(agentId: string): AgentKeyRow | undefined {
    const r = this.getKey.get(agentId);
    return r ? { publicKeyPem: r.public_key, exported: r.exported, learned: r.learned } : undefined;
  }

  put(agentId: string, row: AgentKeyRow): void {
    this.putKey.run(agentId, row.publicKeyPem, row.exported, row.learned);
  }

  remove(agentId: string): void {
    this.delKey.run(agentId);
  }
}
