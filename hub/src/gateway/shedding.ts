// When a gateway process refuses new agent upgrades, and what it tells them. Admission (admission.ts)
// paces TLS work to what the process completes; when the event loop still lags past `maxLagMs`, the
// sessions already connected (their heartbeats, Welcomes, Changes) are what suffer, so new upgrades are
// refused with 503 and a Retry-After of how long the current backlog takes to complete at the rate this
// process completes upgrades. The agent waits that long plus jitter (agent/src/link/retry-hint.ts). An
// upgrade refused here has cost one TLS handshake (resumed, for a reconnecting agent) and no session.
// Pure, with the time passed in.

export interface ShedOptions {
  /** Refuse new upgrades while the loop lags by more than this. Default 250 ms (admission stops at 100). */
  maxLagMs?: number;
  /** Retry-After bounds, in seconds. Default 1 and 60. */
  minRetrySeconds?: number;
  maxRetrySeconds?: number;
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

export function shedVerdict(load: { lagMs: number; backlog: number; completedPerSecond: number }, opts: ShedOptions = {}): ShedVerdict {
  const maxLagMs = opts.maxLagMs ?? 250;
  if (load.lagMs <= maxLagMs) return { shed: false };
  const min = opts.minRetrySeconds ?? 1;
  const max = opts.maxRetrySeconds ?? 60;
  // Nothing completed lately (a process that just started, or one stalled outright): the longest wait.
  const seconds = load.completedPerSecond > 0 ? Math.ceil(load.backlog / load.completedPerSecond) : max;
  return { shed: true, retryAfterSeconds: Math.min(max, Math.max(min, seconds)) };
}
