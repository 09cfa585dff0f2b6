// A connection of an agent that is already connected replaces the older one: that is how an agent gets
// back in after a half-open socket. Two agent processes with one identity (a copied data directory) do
// it to each other for ever, so every replacement is logged with both addresses, and a repeated one says
// what it means. The replaced connection is told who replaced it (CloseCode.replaced), and its agent
// backs off (agent/src/link/hub-link.ts).

/** Replacements of one agent within this window are counted together in the log. */
export const REPLACEMENT_WINDOW_MS = 10 * 60_000;
/** A WebSocket close reason is at most 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** The close reason a replaced connection gets: it names the newer connection. */
export function replacedReason(newerRemote: string): string {
  const reason = `replaced by a newer connection of this agent from ${newerRemote}`;
  return Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES ? reason : 'replaced by a newer connection of this agent';
}

interface Recent {
  firstAt: number;
  count: number;
}

export class ReplacementLog {
  private readonly recent = new Map<string, Recent>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Logs one replacement; returns how many this agent had within the window (this one included). */
  replaced(log: { warn(o: object, m: string): void }, agentId: string, olderRemote: string, newerRemote: string): number {
    const now = this.now();
    let r = this.recent.get(agentId);
    if (!r || now - r.firstAt > REPLACEMENT_WINDOW_MS) {
      this.prune(now);
      this.recent.set(agentId, (r = { firstAt: now, count: 0 }));
    }
    r.count++;
    log.warn(
      { agent: agentId, replaced: olderRemote, by: newerRemote, replacementsInWindow: r.count, windowMinutes: REPLACEMENT_WINDOW_MS / 60_000 },
      r.count === 1
        ? 'agent connected again while still connected; its older connection is closed'
        : 'agent connections keep replacing each other: two agent processes are probably running with one identity (a copied data directory); stop one, or join it with its own bootstrap token',
    );
    return r.count;
  }

  private prune(now: number): void {
    for (const [agentId, r] of this.recent) if (now - r.firstAt > REPLACEMENT_WINDOW_MS) this.recent.delete(agentId);
  }
}
