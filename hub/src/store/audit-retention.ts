// Keeps the audit log to its configured age and size (--audit-max-age, --audit-max-rows): pruned once at
// start and then periodically, like the change-log compactor.
import { systemClock, type Clock } from '../clock.js';
import type { Store } from './store.js';

export interface AuditRetentionOptions {
  /** Rows older than this go. */
  maxAgeMs: number;
  /** At most this many rows stay (the newest). */
  maxRows: number;
  clock?: Clock;
  /** How often to prune. Default 10 minutes. */
  everyMs?: number;
}

/**
 * Rows deleted per transaction. A first prune after an upgrade may face millions of rows; deleting them
 * in one go would hold the event loop (agents' frames, API requests) for seconds.
 */
const CHUNK = 10_000;

export class AuditRetention {
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  private pass: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: AuditRetentionOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** One chunk of pruning; returns the rows it deleted (CHUNK: there may be more). */
  private step(): number {
    return this.store.pruneAudit(new Date(this.clock.now().getTime() - this.opts.maxAgeMs), this.opts.maxRows, CHUNK);
  }

  /** Prunes everything due now, in one call. Returns the rows deleted. */
  pruneNow(): number {
    let total = 0;
    for (let n = CHUNK; n === CHUNK; total += n) n = this.step();
    return total;
  }

  /** Prunes now and every `everyMs`, one chunk per turn of the event loop. */
  start(): void {
    const run = (): void => {
      if (this.pass) return; // the previous pass is still at work
      const next = (): void => {
        this.pass = this.step() === CHUNK ? setImmediate(next) : undefined;
      };
      next();
    };
    run();
    this.timer = setInterval(run, this.opts.everyMs ?? 600_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.pass) clearImmediate(this.pass);
    this.timer = undefined;
    this.pass = undefined;
  }
}
