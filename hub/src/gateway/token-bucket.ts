// A token bucket: `capacity` tokens, refilled at `perSecond`, computed from timestamps on use (no timer),
// so one per agent costs two numbers. The gateway meters what one agent may make the hub do with it:
// statuses written, bytes of Changes answered, lines of its Errors logged.

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    now: number,
  ) {
    if (!(capacity > 0) || !(perSecond > 0)) throw new RangeError(`a token bucket needs capacity (${capacity}) and rate (${perSecond}) above 0`);
    this.tokens = capacity;
    this.at = now;
  }

  /** Tokens now; negative while a charge taken on credit (`charge`) is paid back. */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.perSecond) / 1000);
      this.at = now;
    }
    return this.tokens;
  }

  /** Takes `n` tokens if there are that many; false (nothing taken) otherwise. */
  take(now: number, n = 1): boolean {
    if (this.available(now) < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens even if that goes below zero: for a cost known only after the work (the bytes of an
   * answer). The next `take` or `ready` waits until the debt is paid back.
   */
  charge(now: number, n: number): void {
    this.available(now);
    this.tokens -= n;
  }

  /** Whether at least one token is there (after a charge on credit: whether it is paid back). */
  ready(now: number): boolean {
    return this.available(now) >= 1;
  }

  /** Milliseconds until `n` tokens are there (0 when they are). */
  msUntil(now: number, n = 1): number {
    const missing = n - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.perSecond);
  }

  /** Whether the bucket is full again: its owner may forget it. */
  full(now: number): boolean {
    return this.available(now) >= this.capacity;
  }
}
