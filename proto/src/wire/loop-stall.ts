// How long this process's event loop was stalled: a timer that should fire every `everyMs` and fires
// late says the process could not run (CPU starved, SIGSTOPped, a long synchronous task). Both ends of
// an agent link use it so that "the other side was silent for N ms" counts only time in which this
// side could have heard it: after a stall, frames already in the socket buffer are read only after the
// timers that would declare the peer silent have run. Pure, with the time passed in (monotonic ms).

export interface StallSource {
  /** Stalled ms in total up to `now`, counting a tick overdue at `now`. Never decreases. */
  stalled(now: number): number;
  /** Stalled ms between `from` and `now` (stalls that ended at or after `from`). */
  stalledWithin(from: number, now: number): number;
}

export class LoopStall implements StallSource {
  private total = 0;
  private expected: number | undefined;
  /** Recent stalls, oldest first, kept for `keepMs`: for stalledWithin. */
  private recent: Array<{ at: number; ms: number }> = [];

  /**
   * @param everyMs how often tick() is called
   * @param toleranceMs lateness below this is the loop doing its ordinary work, not a stall
   * @param keepMs how far back stalledWithin can look
   */
  constructor(
    readonly everyMs: number,
    private readonly toleranceMs: number,
    private readonly keepMs: number,
  ) {
    if (!(everyMs > 0 && toleranceMs >= 0 && keepMs > 0)) throw new Error(`LoopStall needs everyMs > 0 (${everyMs}), toleranceMs >= 0 (${toleranceMs}), keepMs > 0 (${keepMs})`);
  }

  /** From the sampling timer, every `everyMs`. */
  tick(now: number): void {
    const late = this.overdue(now);
    if (late > 0) {
      this.total += late;
      this.recent.push({ at: now, ms: late });
    }
    while (this.recent.length && this.recent[0]!.at < now - this.keepMs) this.recent.shift();
    this.expected = now + this.everyMs;
  }

  stalled(now: number): number {
    return this.total + this.overdue(now);
  }

  stalledWithin(from: number, now: number): number {
    let ms = this.overdue(now);
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]!.at >= from; i--) ms += this.recent[i]!.ms;
    return ms;
  }

  /** The largest stall of the last `keepMs` (the bench's loop-lag figure). */
  maxRecent(now: number): number {
    return Math.max(this.overdue(now), ...this.recent.map((r) => r.ms));
  }

  private overdue(now: number): number {
    if (this.expected === undefined) return 0;
    const late = now - this.expected;
    return late > this.toleranceMs ? late : 0;
  }
}

/**
 * A LoopStall sampled by a timer of its own that does not keep the process alive. One per process is
 * enough (every link in it shares the loop): see processLoopStall.
 */
export function sampledLoopStall(everyMs: number, toleranceMs: number, keepMs: number, now: () => number = () => performance.now()): { stall: LoopStall; stop(): void } {
  const stall = new LoopStall(everyMs, toleranceMs, keepMs);
  stall.tick(now());
  const timer = setInterval(() => stall.tick(now()), everyMs);
  timer.unref();
  return { stall, stop: () => clearInterval(timer) };
}

let shared: LoopStall | undefined;
/**
 * This process's loop stall, sampled every 100 ms (lateness under 50 ms is ordinary work), looking back
 * a minute. Shared by every link and server in the process: they all run on the one loop.
 */
export function processLoopStall(): LoopStall {
  shared ??= sampledLoopStall(100, 50, 60_000).stall;
  return shared;
}
