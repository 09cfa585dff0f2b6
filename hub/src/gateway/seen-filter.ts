// Which of an agent's "seen" events a gateway process passes on to the primary. Every frame an agent
// sends (a heartbeat every 15 s, at rest) makes one, and the primary refreshes lastSeen from them no
// oftener than LAST_SEEN_EVERY_MS (presence.ts): sent for each, they were one IPC message part per
// heartbeat, as much of an idle gateway process's work as reading the heartbeats themselves (a CPU
// profile at 10,000 agents per process). A fifth of that interval keeps lastSeen as fresh as before, give
// or take a minute. Pure, with the time passed in.
import { LAST_SEEN_EVERY_MS } from './presence.js';

export const SEEN_FORWARD_EVERY_MS = LAST_SEEN_EVERY_MS / 5;

export class SeenFilter {
  private readonly sentAt = new Map<string, number>();

  constructor(private readonly everyMs = SEEN_FORWARD_EVERY_MS) {}

  /** Whether this "seen" goes on to the primary (then the next one within everyMs does not). */
  pass(agentId: string, now: number): boolean {
    const last = this.sentAt.get(agentId);
    if (last !== undefined && now - last < this.everyMs) return false;
    this.sentAt.set(agentId, now);
    return true;
  }

  /** The agent's link closed: its next link's first "seen" goes on. */
  forget(agentId: string): void {
    this.sentAt.delete(agentId);
  }

  get size(): number {
    return this.sentAt.size;
  }
}
