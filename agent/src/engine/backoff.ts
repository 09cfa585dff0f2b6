// Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// a fleet that lost its hub at the same instant comes back spread out, not in one thundering herd.
export interface BackoffOptions {
  /** First ceiling, in ms. Default 500. */
  baseMs?: number;
  /** Largest ceiling, in ms. Default 30,000. */
  capMs?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.baseMs = opts.baseMs ?? 500;
    this.capMs = opts.capMs ?? 30_000;
    if (this.baseMs <= 0 || this.capMs < this.baseMs) throw new Error(`backoff needs 0 < base (${this.baseMs}) <= cap (${this.capMs})`);
  }

  /** The delay before the next attempt: uniform in [0, min(cap, base * 2^attempt)). */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
