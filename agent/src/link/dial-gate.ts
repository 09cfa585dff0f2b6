// A bound on the hub dials one process has under way at once, for a process that carries many links (the
// scale bench's simulator runs thousands of agents' HubLinks in one event loop). A real agent has one link
// and needs none. Without it, a simulator whose fleet all redials after a hub restart starts thousands of
// TLS handshakes together; each one's client half then waits behind all the others in that one loop, so
// the hub sees clients seconds slow to answer, which no agent on its own machine would be. The hub then
// times them out, and both sides' work is thrown away and done again. With the gate a dial's client half
// finishes in the time its own CPU takes, as on a real agent, and the rest wait in this process, where
// the bench counts the wait against the simulator, not the hub.

export interface DialGateStats {
  /** Dials under way now. */
  inFlight: number;
  /** Dials waiting for a slot now. */
  queued: number;
}

export class DialGate {
  private inFlight = 0;
  /** Waiting dials from `head` on (an index, not shift(): shift is O(n), and a fleet queues thousands). */
  private queue: Array<{ start: (done: () => void) => void; since: number }> = [];
  private head = 0;
  private maxWaitMs = 0;
  private pumping = false;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a dial gate needs a limit of at least 1, not ${limit}`);
  }

  /**
   * Runs `start` when a slot is free. It gets `done`, to call once the dial has ended either way (the
   * link opened, or failed); a second call does nothing.
   */
  run(start: (done: () => void) => void, now = performance.now()): void {
    this.queue.push({ start, since: now });
    this.pump();
  }

  stats(): DialGateStats {
    return { inFlight: this.inFlight, queued: this.queue.length - this.head };
  }

  /** The longest wait since the last call, and starts counting afresh. */
  takeMaxWait(): number {
    const max = this.maxWaitMs;
    this.maxWaitMs = 0;
    return Math.round(max);
  }

  /**
   * Starts queued dials while slots are free. A loop, not recursion: a dial that ends at once (its link
   * was stopped while it waited) frees its slot inside start(), and a queue of thousands of those must
   * not nest thousands of calls.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inFlight < this.limit && this.head < this.queue.length) {
        const next = this.queue[this.head++]!;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        this.maxWaitMs = Math.max(this.maxWaitMs, performance.now() - next.since);
        this.inFlight++;
        let ended = false;
        next.start(() => {
          if (ended) return;
          ended = true;
          this.inFlight--;
          this.pump();
        });
      }
    } finally {
      this.pumping = false;
    }
  }
}
