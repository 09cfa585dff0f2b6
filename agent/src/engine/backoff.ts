// Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// a fleet that lost its hub at the same instant comes back spread out, not in one thundering herd. The hub
// link, the work queue's per-key retries and a flow step's retries all use this one formula.
import { InvalidOptionsError } from './errors.js';

export interface BackoffOptions {
  /** First ceiling, in ms. Default 500. */
  baseMs?: number;
  /** Largest ceiling, in ms. Default 30,000. */
  capMs?: number;
}

/** Backoff options with every default filled and checked. */
export interface BackoffLimits {
  readonly baseMs: number;
  readonly capMs: number;
}

/** Fills the defaults and refuses limits that would make the delay zero or shrink as failures grow. */
export function backoffLimits(opts: BackoffOptions = {}, where = 'backoff'): BackoffLimits {
  const baseMs = opts.baseMs ?? 500;
  const capMs = opts.capMs ?? 30_000;
  if (!(baseMs > 0) || !(capMs >= baseMs) || !Number.isFinite(capMs)) {
    throw new InvalidOptionsError(where, `needs 0 < baseMs (${baseMs}) <= capMs (${capMs}), both finite`);
  }
  return { baseMs, capMs };
}

/**
 * The delay before retry number `attempt` (0 for the first retry): uniform in [0, min(cap, base * 2^attempt)).
 * `random` returns a number in [0, 1), as Math.random does; tests pass a constant to get exact delays.
 */
export function backoffDelay(attempt: number, limits: BackoffLimits, random: () => number = Math.random): number {
  // 2^30 already passes any sane cap; clamping keeps the ceiling finite for a key that fails forever.
  const ceiling = Math.min(limits.capMs, limits.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}

/** A backoff that counts its own attempts, for one connection or one loop. */
export class Backoff {
  private attempt = 0;
  private readonly limits: BackoffLimits;

  constructor(opts: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.limits = backoffLimits(opts);
  }

  /** The delay before the next attempt: uniform in [0, min(cap, base * 2^attempt)). */
  next(): number {
    return backoffDelay(this.attempt++, this.limits, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
