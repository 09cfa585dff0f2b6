// Failed joins per remote address (an IPv6 client's /64, address-key.ts), as a token bucket: a burst of `maxFailuresPerMinute`, refilled at that
// many a minute. Only failures take from it, so a fleet joining with good tokens from behind one NAT is
// never slowed; an address whose bucket is empty is answered 429 without its token being looked at, so a
// brute force gets one guess per refill. Both the failures and the throttling are logged, rate-limited.
import { addressKey } from '../address-key.js';
import { RateLimitedWarning, type WarnLog } from '../rate-limited-warning.js';

export interface JoinThrottleOptions {
  maxFailuresPerMinute: number;
  /** Addresses remembered at most; past it the least recently failed is forgotten. Default 10,000. */
  maxAddresses?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MINUTE_MS = 60_000;

export class JoinThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxAddresses: number;
  private readonly failures: RateLimitedWarning;
  private readonly throttled: RateLimitedWarning;

  constructor(
    private readonly o: JoinThrottleOptions,
    log: WarnLog,
  ) {
    this.now = o.now ?? (() => performance.now());
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.failures = new RateLimitedWarning(log, 'join refused: a wrong, used or expired bootstrap token', 10_000, this.now);
    this.throttled = new RateLimitedWarning(log, 'joins throttled: too many failed joins from one address, answered 429 (--max-failed-joins-per-minute)', 10_000, this.now);
  }

  private tokens(key: string, t: number): number {
    const b = this.buckets.get(key);
    if (!b) return this.o.maxFailuresPerMinute;
    return Math.min(this.o.maxFailuresPerMinute, b.tokens + ((t - b.at) * this.o.maxFailuresPerMinute) / MINUTE_MS);
  }

  /** Seconds until `address` may try again, or undefined when it may now. A refusal is logged. */
  retryAfterSeconds(address: string): number | undefined {
    const t = this.now();
    const tokens = this.tokens(addressKey(address), t);
    if (tokens >= 1) return undefined;
    const seconds = Math.max(1, Math.ceil(((1 - tokens) * MINUTE_MS) / this.o.maxFailuresPerMinute / 1000));
    this.throttled.note({ address, retryAfterSeconds: seconds });
    return seconds;
  }

  /** A join from `address` failed (`code` says why). */
  failed(address: string, code: string): void {
    const t = this.now();
    const key = addressKey(address);
    const tokens = this.tokens(key, t) - 1;
    this.buckets.delete(key); // re-inserted last: the map's order is least recently failed first
    this.buckets.set(key, { tokens, at: t });
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    this.failures.note({ address, code });
  }

  stop(): void {
    this.failures.stop();
    this.throttled.stop();
  }
}
