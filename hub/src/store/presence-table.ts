// Agents' presence (connected, since when, last seen, acked revision, address, version, SSH key) in its own table
// beside the objects. Presence is not desired state: writing it takes no global revision, no change-log
// row and no audit row, so a reconnect storm of the whole fleet leaves the delta window of watches and
// bundles where it was. Readers see it in Agent status, merged on read (withPresence).
import type { Agent } from '@outpost/proto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface AgentPresence {
  connected: boolean;
  /** RFC 3339; empty until the agent first connected. */
  connectedSince: string;
  lastSeen: string;
  ackedRevision: number;
  address: string;
  version: string;
  /** The agent's SSH public key, as its last Hello said (a site's hosts authorize it). */
  sshPublicKey: string;
}

/** The fields one update sets; the others keep their stored value. */
export type PresencePatch = Partial<AgentPresence>;

type AgentStatus = NonNullable<Agent['status']>;

/** The status fields that are presence: stored here, never in the Agent object. */
const PRESENCE_FIELDS = ['connected', 'connectedSince', 'lastSeen', 'ackedRevision', 'address', 'version', 'sshPublicKey'] as const satisfies ReadonlyArray<keyof AgentPresence & keyof AgentStatus>;

/** Where presence changes are published (Presence, in the process that writes them). */
export interface PresenceFeed {
  /** Calls `fn` with the Agents whose presence was written, presence merged, after each batch. */
  subscribe(fn: (agents: readonly Agent[]) => void): () => void;
}

interface Row {
  agent: string;
  connected: number;
  connected_since: string | null;
  last_seen: string | null;
  acked_revision: number;
  address: string | null;
  version: string | null;
  ssh_public_key: string | null;
}

interface UpsertParams {
  agent: string;
  connected: number | null;
  connectedSince: string | null;
  lastSeen: string | null;
  ackedRevision: number | null;
  address: string | null;
  version: string | null;
  sshPublicKey: string | null;
}

function fromRow(r: Row): AgentPresence {
  return { connected: r.connected === 1, connectedSince: r.connected_since ?? '', lastSeen: r.last_seen ?? '', ackedRevision: r.acked_revision, address: r.address ?? '', version: r.version ?? '', sshPublicKey: r.ssh_public_key ?? '' };
}

/** An agent that never connected: what its status said at join before presence had its own table. */
const ABSENT: AgentPresence = { connected: false, connectedSince: '', lastSeen: '', ackedRevision: 0, address: '', version: '', sshPublicKey: '' };

/** `agent` with its presence in status (an agent with no row: not connected, nothing acked). */
export function withPresence<T extends Agent>(agent: T, presence: AgentPresence | undefined): T {
  const p = presence ?? ABSENT;
  const shown: AgentStatus = { ...agent.status, connected: p.connected, ackedRevision: p.ackedRevision } as AgentStatus;
  for (const f of ['connectedSince', 'lastSeen', 'address', 'version', 'sshPublicKey'] as const) if (p[f]) shown[f] = p[f];
  return { ...agent, status: shown };
}

/** An Agent status without its presence fields: what may be stored in the Agent object (conditions). */
export function withoutPresence(status: Agent['status']): Agent['status'] {
  if (!status) return status;
  const rest: Record<string, unknown> = { ...status };
  for (const f of PRESENCE_FIELDS) delete rest[f];
  return rest as Agent['status'];
}

export class PresenceTable {
  private readonly stmts: {
    get: Statement<[string], Row>;
    all: Statement<[], Row>;
    upsert: Statement<[UpsertParams], Row>;
    disconnectAll: Statement<[]>;
    remove: Statement<[string]>;
  };
  private readonly upsertTx;

  constructor(private readonly db: Db) {
    this.stmts = {
      get: db.prepare(`SELECT * FROM presence WHERE agent = ?`),
      all: db.prepare(`SELECT * FROM presence`),
      // Only for an Agent that exists: one deleted while it was connected leaves no row behind. A null
      // parameter keeps what is stored.
      upsert: db.prepare(
        `INSERT INTO presence (agent, connected, connected_since, last_seen, acked_revision, address, version, ssh_public_key)
         SELECT @agent, coalesce(@connected, 0), @connectedSince, @lastSeen, coalesce(@ackedRevision, 0), @address, @version, @sshPublicKey
         WHERE EXISTS (SELECT 1 FROM objects WHERE kind = 'Agent' AND namespace = '' AND name = @agent)
         ON CONFLICT (agent) DO UPDATE SET
           connected = coalesce(@connected, connected), connected_since = coalesce(@connectedSince, connected_since),
           last_seen = coalesce(@lastSeen, last_seen), acked_revision = coalesce(@ackedRevision, acked_revision),
           address = coalesce(@address, address), version = coalesce(@version, version),
           ssh_public_key = coalesce(@sshPublicKey, ssh_public_key)
         RETURNING *`,
      ),
      disconnectAll: db.prepare(`UPDATE presence SET connected = 0 WHERE connected = 1`),
      remove: db.prepare(`DELETE FROM presence WHERE agent = ?`),
    };
    this.upsertTx = db.transaction((patches: ReadonlyArray<readonly [string, PresencePatch]>) => {
      const written = new Map<string, AgentPresence>();
      for (const [agent, p] of patches) {
        const row = this.stmts.upsert.get({
          agent,
          connected: p.connected === undefined ? null : p.connected ? 1 : 0,
          connectedSince: p.connectedSince ?? null,
          lastSeen: p.lastSeen ?? null,
          ackedRevision: p.ackedRevision ?? null,
          address: p.address ?? null,
          version: p.version ?? null,
          sshPublicKey: p.sshPublicKey ?? null,
        });
        if (row) written.set(agent, fromRow(row));
      }
      return written;
    });
  }

  get(agentId: string): AgentPresence | undefined {
    const row = this.stmts.get.get(agentId);
    return row ? fromRow(row) : undefined;
  }

  /** Every agent's presence, for a list of Agents: one query, not one per Agent. */
  all(): Map<string, AgentPresence> {
    return new Map(this.stmts.all.all().map((r) => [r.agent, fromRow(r)]));
  }

  /**
   * Writes `patches` in one transaction (a savepoint inside the caller's). Agents without an Agent
   * object are skipped. Returns each written agent's presence as it now stands.
   */
  write(patches: ReadonlyArray<readonly [string, PresencePatch]>): Map<string, AgentPresence> {
    return this.db.inTransaction ? this.upsertTx(patches) : this.upsertTx.immediate(patches);
  }

  /** After a crash nobody is connected until they dial in again: one UPDATE. Returns how many were. */
  disconnectAll(): number {
    return this.stmts.disconnectAll.run().changes;
  }

  /** Drops a deleted Agent's presence (in the delete's transaction). */
  remove(agentId: string): void {
    this.stmts.remove.run(agentId);
  }
}
