// Records each Agent's connection state in its status. Writes are batched: a reconnect storm of many
// agents becomes a few transactions, not one per agent, and a chatty agent cannot write on every frame.
import { rfc3339, type Agent } from '@outpost/proto';
import type { Store } from '../store/store.js';

type AgentStatus = NonNullable<Agent['status']>;

function now(): string {
  return rfc3339();
}

/**
 * Agents written per transaction. A reconnect storm queues one update per agent; writing them all at once
 * would hold the event loop (and, with gateway processes, every accept and IPC message) for seconds.
 */
const MAX_BATCH = 1000;

/**
 * lastSeen is refreshed at most this often for an agent that is otherwise quiet. `connected` is the live
 * state; lastSeen matters once an agent is gone. Every 30 s was 3,300 writes a second for an idle fleet of
 * 100,000, each an Agent rewrite with its change-log and audit rows.
 */
const LAST_SEEN_EVERY_MS = 300_000;

export class Presence {
  private pending = new Map<string, Partial<AgentStatus>>();
  private lastSeenWritten = new Map<string, number>();
  /** Agents updated since the hub started, while markAllDisconnected is still at work. */
  private readonly touched = new Set<string>();
  private marking = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly flushEveryMs = 250,
  ) {}

  /**
   * After a crash every Agent still says connected: nobody is until they dial in again. Done in batches after the hub serves again, so a restart of a large fleet's hub is not held up by
   * rewriting every Agent; an agent that reports in meanwhile is left as it reported.
   */
  markAllDisconnected(): void {
    const stale = this.store.list<Agent>('Agent').filter((a) => a.status?.connected).map((a) => a.metadata.name ?? '');
    this.marking = stale.length > 0;
    const step = (): void => {
      if (this.stopped || !this.marking) return;
      const batch = stale.splice(0, MAX_BATCH);
      this.store.transaction(() => {
        for (const agentId of batch) if (!this.touched.has(agentId)) this.write(agentId, { connected: false });
      });
      if (stale.length > 0) return void setImmediate(step);
      this.marking = false;
      this.touched.clear();
    };
    if (this.marking) step();
  }

  connected(agentId: string, version: string, address: string): void {
    this.update(agentId, { connected: true, version, address, connectedSince: now(), lastSeen: now() });
  }

  acked(agentId: string, revision: number): void {
    this.update(agentId, { ackedRevision: revision, lastSeen: now() });
  }

  seen(agentId: string): void {
    const last = this.lastSeenWritten.get(agentId) ?? 0;
    if (Date.now() - last >= LAST_SEEN_EVERY_MS) this.update(agentId, { lastSeen: now() });
  }

  disconnected(agentId: string): void {
    this.update(agentId, { connected: false, lastSeen: now() });
  }

  /** Writes up to MAX_BATCH pending agents (all of them with `all`), and schedules the rest soon. */
  flush(all = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch: Array<[string, Partial<AgentStatus>]> = [];
    for (const entry of this.pending) {
      if (!all && batch.length >= MAX_BATCH) break;
      batch.push(entry);
      this.pending.delete(entry[0]);
    }
    this.store.transaction(() => {
      for (const [agentId, patch] of batch) this.write(agentId, patch);
    });
    if (this.pending.size > 0) this.timer = setTimeout(() => this.flush(), 0);
  }

  /** Writes what is pending; later updates are dropped (the store is about to close). */
  stop(): void {
    this.flush(true);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private update(agentId: string, patch: Partial<AgentStatus>): void {
    if (this.stopped) return;
    if (this.marking) this.touched.add(agentId);
    this.pending.set(agentId, { ...this.pending.get(agentId), ...patch });
    if (patch.lastSeen) this.lastSeenWritten.set(agentId, Date.now());
    this.timer ??= setTimeout(() => this.flush(), this.flushEveryMs);
  }

  private write(agentId: string, patch: Partial<AgentStatus>): void {
    const current = this.store.get<Agent>('Agent', '', agentId);
    if (!current) return; // deleted while connected
    this.store.replaceStatus({ kind: 'Agent', namespace: '', name: agentId }, { ...current.status, ...patch }, { actor: `agent:${agentId}` });
  }
}
