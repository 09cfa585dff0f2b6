// Keeps the audit log to its configured age and size (--audit-max-age, --audit-max-rows): pruned once at
// start and then periodically, like the change-log compactor, and sooner when the log outgrows its size:
// writes can come faster than one pass every ten minutes (a flood of agent statuses, issue 10).
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
  /** How often to look (in constant time) whether the log outgrew maxRows, and prune then. Default 5 s. */
  checkEveryMs?: number;
}

/**
 * Rows deleted per transaction. A first prune after an upgrade may face millions of rows; deleting them
 * in one go would hold the event loop (agents' frames, API requests) for seconds.
 */
const CHUNK = 10_000;

export class AuditRetention {
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  private pass: NodeJS.Immediate | undefined;
  /** The log's span after the last pass: a pass is due again once it grows past both this and maxRows. */
  private spanAfterPass = 0;

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

  /**
   * Whether the log has grown past maxRows by more than a slack since the last pass. The slack (1 % of
   * maxRows, at least 100) keeps a steady trickle of writes from making every check a pass; the span
   * after a pass covers ids left by age pruning that a pass cannot close.
   */
  overgrown(): boolean {
    const slack = Math.max(100, Math.ceil(this.opts.maxRows / 100));
    return this.store.auditSpan() > Math.max(this.opts.maxRows, this.spanAfterPass) + slack;
  }

  /** Prunes now and every `everyMs`, one chunk per turn of the event loop; and whenever overgrown(). */
  start(): void {
    const run = (): void => {
      if (this.pass) return; // the previous pass is still at work
      const next = (): void => {
        if (this.step() === CHUNK) return void (this.pass = setImmediate(next));
        this.pass = undefined;
        this.spanAfterPass = this.store.auditSpan();
      };
      next();
    };
    run();
    this.timer = setInterval(run, this.opts.everyMs ?? 600_000);
    this.timer.unref();
    this.checker = setInterval(() => {
      if (this.overgrown()) run();
    }, this.opts.checkEveryMs ?? 5000);
    this.checker.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.checker);
    if (this.pass) clearImmediate(this.pass);
    this.timer = undefined;
    this.checker = undefined;
    this.pass = undefined;
  }
}
