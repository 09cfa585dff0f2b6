// When a gateway process refuses new agent upgrades, and what it tells them. Admission (admission.ts)
// paces TLS work to what the process completes; when the event loop still lags past `maxLagMs`, the
// sessions already connected (their heartbeats, Welcomes, Changes) are what suffer, so a share of new
// upgrades growing with the lag (never all: a process whose loop always lags, starved of CPU, must
// still take some or it never fills) is refused with 503 and a Retry-After of how long the current
// backlog takes to complete at the rate this process completes upgrades. The agent waits that long plus jitter (agent/src/link/retry-hint.ts). An
// upgrade refused here has cost one TLS handshake (resumed, for a reconnecting agent) and no session.
// Pure, with the time passed in.

export interface ShedOptions {
  /** Refuse new upgrades while the loop lags (in the last second) by more than this. Default 250 ms. */
  maxLagMs?: number;
  /** The lag at which the most upgrades are refused. Default 1000 ms (the whole last second). */
  fullLagMs?: number;
  /** The largest share refused. Default 0.9. */
  maxShare?: number;
  /** Retry-After bounds, in seconds. Default 1 and 60. */
  minRetrySeconds?: number;
  maxRetrySeconds?: number;
  /**
   * The completion rate assumed when the measured one is lower (a process that just started has measured
   * none): without it a restarted hub would send its whole fleet away for the longest wait. Default 50/s.
   */
  floorPerSecond?: number;
}

export type ShedVerdict = { shed: false } | { shed: true; retryAfterSeconds: number };

/** Completions per second, as an exponentially weighted mean over about `windowMs`. */
export class CompletionRate {
  private perSecond = 0;
  private count = 0;
  private since: number;

  constructor(
    now: number,
    private readonly windowMs = 5000,
  ) {
    this.since = now;
  }

  completed(): void {
    this.count++;
  }

  rate(now: number): number {
    const elapsed = now - this.since;
    if (elapsed >= 1000) {
      const sample = (this.count * 1000) / elapsed;
      const weight = Math.min(1, elapsed / this.windowMs);
      this.perSecond = this.perSecond === 0 ? sample : this.perSecond + weight * (sample - this.perSecond);
      this.count = 0;
      this.since = now;
    }
    return this.perSecond;
  }
}

/** The share of upgrades to refuse at a lag: 0 up to maxLagMs, rising linearly to maxShare at fullLagMs. */
export function shedShare(lagMs: number, opts: ShedOptions = {}): number {
  const maxLagMs = opts.maxLagMs ?? 250;
  const fullLagMs = opts.fullLagMs ?? 1000;
  const maxShare = opts.maxShare ?? 0.9;
  if (lagMs <= maxLagMs) return 0;
  return Math.min(maxShare, (maxShare * (lagMs - maxLagMs)) / Math.max(1, fullLagMs - maxLagMs));
}

/** `random` in [0, 1), as Math.random: an upgrade is refused when it falls below the share. */
export function shedVerdict(load: { lagMs: number; backlog: number; completedPerSecond: number }, opts: ShedOptions = {}, random: () => number = Math.random): ShedVerdict {
  const share = shedShare(load.lagMs, opts);
  if (share === 0 || random() >= share) return { shed: false };
  const min = opts.minRetrySeconds ?? 1;
  const max = opts.maxRetrySeconds ?? 60;
  const seconds = Math.ceil(load.backlog / Math.max(load.completedPerSecond, opts.floorPerSecond ?? 50));
  return { shed: true, retryAfterSeconds: Math.min(max, Math.max(min, seconds)) };
}
