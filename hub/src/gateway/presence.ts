// Records each Agent's connection state in its status. Writes are batched: a reconnect storm of many
// agents becomes a few transactions, not one per agent, and a chatty agent cannot write on every frame.
import type { Agent } from '@outpost/proto';
import type { Store } from '../store/store.js';

type AgentStatus = NonNullable<Agent['status']>;

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** lastSeen is refreshed at most this often for an agent that is otherwise quiet. */
const LAST_SEEN_EVERY_MS = 30_000;

export class Presence {
  private pending = new Map<string, Partial<AgentStatus>>();
  private lastSeenWritten = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly flushEveryMs = 250,
  ) {}

  /** After a crash every Agent still says connected: nobody is until they dial in again. */
  markAllDisconnected(): void {
    this.store.transaction(() => {
      for (const a of this.store.list<Agent>('Agent')) {
        if (a.status?.connected) this.write(a.metadata.name ?? '', { connected: false });
      }
    });
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

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.store.transaction(() => {
      for (const [agentId, patch] of batch) this.write(agentId, patch);
    });
  }

  /** Writes what is pending; later updates are dropped (the store is about to close). */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  private update(agentId: string, patch: Partial<AgentStatus>): void {
    if (this.stopped) return;
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
