// Records each agent's presence (connected, acked, last seen) in the store's presence table and tells
// the API's watchers. Runs where the store's writer is: in the hub process, or in the primary, which hears
// the gateway processes' agent events over IPC. Writes are batched: a reconnect storm of many agents
// becomes a few transactions, not one per agent, and a chatty agent cannot write on every frame. No
// write takes a revision, a change-log row or an audit row (store/presence-table.ts).
import type { Agent } from '@outpost/proto';
import { systemClock, timestamp, type Clock } from '../clock.js';
import { withPresence, type AgentPresence, type PresenceFeed, type PresencePatch } from '../store/presence-table.js';
import type { Store } from '../store/store.js';
import { recordLinkEncryptionKey } from '../bundles/link-encryption-key.js';

/** What an agent's Hello and its connection say of it, recorded as its presence. */
export interface ConnectedAgent {
  version: string;
  address: string;
  /** Empty when the agent sent none (an older agent). */
  sshPublicKey: string;
  /** The public half of its encryption key (SPKI PEM); empty from an older agent. Optional for the same reason. */
  encryptionKey?: string;
}

type Listener = (agents: readonly Agent[]) => void;

/**
 * Agents written per transaction. A reconnect storm queues one update per agent; writing them all at once
 * would hold the event loop (and, with gateway processes, every accept and IPC message) for seconds.
 */
const MAX_BATCH = 1000;

/**
 * lastSeen is refreshed at most this often for an agent that is otherwise quiet. `connected` is the live
 * state; lastSeen matters once an agent is gone. Every 30 s was 3,300 writes a second for an idle fleet of
 * 100,000 (then each an Agent rewrite with its change-log and audit rows; a presence row now, but still a
 * write and a watch event per agent).
 */
export const LAST_SEEN_EVERY_MS = 300_000;

export interface PresenceOptions {
  /** How long updates gather before they are written. Default 250 ms. */
  flushEveryMs?: number;
  clock?: Clock;
}

export class Presence implements PresenceFeed {
  private pending = new Map<string, PresencePatch>();
  private lastSeenWritten = new Map<string, number>();
  /** Encryption keys Hellos told, written with their agents' presence (link-encryption-key.ts). */
  private readonly pendingKeys = new Map<string, string>();
  private readonly listeners = new Set<Listener>();
  private readonly flushEveryMs: number;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    opts: PresenceOptions = {},
  ) {
    this.flushEveryMs = opts.flushEveryMs ?? 250;
    this.clock = opts.clock ?? systemClock;
  }

  /**
   * After a crash every agent still says connected: nobody is until they dial in again. One UPDATE of the
   * presence table, before the hub serves; no Agent object is rewritten.
   */
  markAllDisconnected(): number {
    return this.store.presence.disconnectAll();
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  connected(agentId: string, facts: ConnectedAgent): void {
    const now = timestamp(this.clock);
    this.update(agentId, { connected: true, version: facts.version, address: facts.address, ...(facts.sshPublicKey ? { sshPublicKey: facts.sshPublicKey } : {}), connectedSince: now, lastSeen: now });
    if (facts.encryptionKey) this.pendingKeys.set(agentId, facts.encryptionKey);
  }

  acked(agentId: string, revision: number): void {
    this.update(agentId, { ackedRevision: revision, lastSeen: timestamp(this.clock) });
  }

  seen(agentId: string): void {
    const last = this.lastSeenWritten.get(agentId) ?? 0;
    if (this.clock.now().getTime() - last >= LAST_SEEN_EVERY_MS) this.update(agentId, { lastSeen: timestamp(this.clock) });
  }

  disconnected(agentId: string): void {
    this.update(agentId, { connected: false, lastSeen: timestamp(this.clock) });
  }

  /** Writes up to MAX_BATCH pending agents (all of them with `all`), and schedules the rest soon. */
  flush(all = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch: Array<[string, PresencePatch]> = [];
    for (const entry of this.pending) {
      if (!all && batch.length >= MAX_BATCH) break;
      batch.push(entry);
      this.pending.delete(entry[0]);
    }
    // The keys with their agents' presence, in one transaction: only for Agents that still exist (the
    // presence write skips a deleted one), and batched as presence is, so a reconnect storm is no storm of writes.
    const written = this.store.transaction(() => {
      const rows = this.store.presence.write(batch);
      const now = this.clock.now();
      for (const [agentId] of batch) {
        const key = this.pendingKeys.get(agentId);
        if (key === undefined) continue;
        this.pendingKeys.delete(agentId);
        if (rows.has(agentId)) recordLinkEncryptionKey(this.store, agentId, key, now);
      }
      return rows;
    });
    if (this.pending.size > 0) this.timer = setTimeout(() => this.flush(), 0);
    this.publish(written);
  }

  /** Writes what is pending; later updates are dropped (the store is about to close). */
  stop(): void {
    this.flush(true);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private update(agentId: string, patch: PresencePatch): void {
    if (this.stopped) return;
    this.pending.set(agentId, { ...this.pending.get(agentId), ...patch });
    if (patch.lastSeen) this.lastSeenWritten.set(agentId, this.clock.now().getTime());
    this.timer ??= setTimeout(() => this.flush(), this.flushEveryMs);
  }

  /** The written Agents with their presence, read once per batch and only when someone watches. */
  private publish(written: ReadonlyMap<string, AgentPresence>): void {
    if (this.listeners.size === 0 || written.size === 0) return;
    const agents: Agent[] = [];
    for (const [agentId, p] of written) {
      const agent = this.store.get<Agent>('Agent', '', agentId);
      if (agent) agents.push(withPresence(agent, p));
    }
    for (const l of this.listeners) l(agents);
  }
}
