// A keyed work queue in the spirit of client-go's workqueue and controller-runtime's controller: keys are
// de-duplicated, run in parallel up to a bound, never two at once for one key, retried with per-key capped
// exponential backoff, resynced periodically, and cancelled when their object changes or goes away.
import { backoffDelay } from './backoff.js';
import type { TimerHandle } from './clock.js';
import type { Component, ComponentHealth } from '@outpost/proto';
import { WorkCancelledError, type CancelReason } from './errors.js';
import { resolveWorkQueueOptions, type ReconcileResult, type ResolvedWorkQueueOptions, type WorkQueueOptions } from './work-queue-options.js';

export interface AddOptions {
  /** The object changed: abort a run of this key in flight (it runs again once it has returned). */
  cancelInFlight?: boolean;
}

/** One key as the queue holds it, for status and tests. */
export interface KeyStatus {
  queued: boolean;
  running: boolean;
  /** Failures since the last success; the next retry waits on the backoff for this many. */
  failures: number;
  /** When (clock time) a pending retry or addAfter adds the key again; absent when none is pending. */
  nextAt?: number;
}

export interface WorkQueueStats {
  queued: number;
  running: number;
  /** Keys with a pending retry or addAfter. */
  waiting: number;
  /** Keys whose last run failed. */
  failing: number;
}

interface Run {
  readonly controller: AbortController;
  /** Why the queue aborted it, the strongest reason if several came. */
  reason: CancelReason | undefined;
  /** Settles (never rejects) once the handler has returned and the queue has recorded the outcome. */
  done: Promise<void>;
}

type Outcome = { ok: true; result: ReconcileResult | void } | { ok: false; error: unknown };

const STRENGTH: Record<CancelReason, number> = { changed: 1, cancelled: 2, stopped: 3 };
/** Node's setTimeout turns anything longer into 1 ms. */
const MAX_DELAY_MS = 2_147_483_647;

export class WorkQueue implements Component {
  readonly name: string;
  private readonly o: ResolvedWorkQueueOptions;
  /** Keys ready to run, oldest first; a Set, so a key queued twice is held once and keeps its place. */
  private readonly ready = new Set<string>();
  private readonly running = new Map<string, Run>();
  /** Keys added while they ran: they go back to `ready` when that run ends, never alongside it. */
  private readonly again = new Set<string>();
  /** Pending retries and addAfter calls, one per key, the earliest kept. */
  private readonly waiting = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly failureCounts = new Map<string, number>();
  private resyncTimer: TimerHandle | undefined;
  private started = false;
  private stopped = false;
  private pumpScheduled = false;
  private stopping: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    this.o = resolveWorkQueueOptions(opts);
    this.name = this.o.name;
  }

  /**
   * Starts running keys (those added before start wait for it), adds every key listKeys returns, and
   * schedules the periodic resync.
   */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    this.resync();
    this.schedulePump();
  }

  /**
   * Queues `key` to run. A key already queued stays queued once; a key running now runs again after this
   * run. Does nothing after stop().
   */
  add(key: string, opts: AddOptions = {}): void {
    if (this.stopped) return;
    const run = this.running.get(key);
    if (run) {
      this.again.add(key);
      if (opts.cancelInFlight) this.abort(key, run, 'changed');
      return;
    }
    this.ready.add(key);
    this.schedulePump();
  }

  /** Adds `key` after `ms`. If one is already pending for the key, the earlier of the two is kept. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const delay = Math.min(ms > 0 ? ms : 0, MAX_DELAY_MS);
    if (delay === 0) return this.add(key);
    const at = this.o.clock.now() + delay;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.o.clock.clearTimeout(pending.timer);
    const timer = this.o.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delay);
    this.waiting.set(key, { at, timer });
  }

  /**
   * The key's object is gone: drops it from the queue, drops its pending retry and its failure count, and
   * aborts a run in flight. Resolves when that run has returned (at once when none was running), so a
   * caller can tear down knowing no old run still works on the object.
   */
  cancel(key: string): Promise<void> {
    this.ready.delete(key);
    this.again.delete(key);
    this.clearWaiting(key);
    this.failureCounts.delete(key);
    const run = this.running.get(key);
    this.notifyIfIdle();
    if (!run) return Promise.resolve();
    this.abort(key, run, 'cancelled');
    return run.done;
  }

  /**
   * Aborts every run in flight, drops everything queued or pending, and resolves when every handler has
   * returned. After it nothing runs. Every call returns the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /** Resolves when nothing is queued or running. Pending retries and addAfter do not count: they are timers. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  status(key: string): KeyStatus {
    const status: KeyStatus = { queued: this.ready.has(key) || this.again.has(key), running: this.running.has(key), failures: this.failures(key) };
    const pending = this.waiting.get(key);
    if (pending) status.nextAt = pending.at;
    return status;
  }

  stats(): WorkQueueStats {
    return { queued: this.ready.size + this.again.size, running: this.running.size, waiting: this.waiting.size, failing: this.failureCounts.size };
  }

  health(): ComponentHealth {
    if (!this.started) return { ok: false, message: 'not started' };
    if (this.stopped) return { ok: false, message: 'stopped' };
    const s = this.stats();
    // Failing keys are their objects' trouble (their status says why), not the queue's: it still works.
    return { ok: true, message: `${s.running} running, ${s.queued} queued, ${s.failing} failing` };
  }

  private async stopAll(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer !== undefined) this.o.clock.clearTimeout(this.resyncTimer);
    for (const key of [...this.waiting.keys()]) this.clearWaiting(key);
    this.ready.clear();
    this.again.clear();
    for (const [key, run] of this.running) this.abort(key, run, 'stopped');
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.notifyIfIdle();
  }

  private resync(): void {
    if (!this.o.listKeys || this.stopped) return;
    try {
      for (const key of this.o.listKeys()) this.add(key);
    } catch (err) {
      this.report(() => this.o.onResyncError(err));
    }
    this.resyncTimer = this.o.clock.setTimeout(() => this.resync(), this.o.resyncMs);
  }

  /** Starts runs in a microtask, so keys added in one burst are de-duplicated before any of them runs. */
  private schedulePump(): void {
    if (this.pumpScheduled || !this.started || this.stopped) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // Deleting the current element while iterating a Set is safe; `ready` never holds a running key.
    for (const key of this.ready) {
      if (this.stopped || this.running.size >= this.o.concurrency) break;
      this.ready.delete(key);
      this.startRun(key);
    }
    this.notifyIfIdle();
  }

  private startRun(key: string): void {
    const run: Run = { controller: new AbortController(), reason: undefined, done: Promise.resolve() };
    this.running.set(key, run);
    run.done = this.execute(key, run);
  }

  private async execute(key: string, run: Run): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { ok: true, result: await this.o.handler(key, run.controller.signal) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.finish(key, run, outcome);
  }

  private finish(key: string, run: Run, outcome: Outcome): void {
    this.running.delete(key);
    // A cancelled or stopped run's outcome is about an object the queue no longer holds; a run cut short
    // by a change is not a failure to back off on: it runs again at once with the new version.
    if (!this.stopped && run.reason !== 'cancelled' && run.reason !== 'stopped') {
      if (outcome.ok) this.succeeded(key, outcome.result);
      else if (run.reason !== 'changed') this.failed(key, outcome.error);
    }
    if (this.again.delete(key) && !this.stopped) this.ready.add(key);
    this.schedulePump();
    this.notifyIfIdle();
  }

  private succeeded(key: string, result: ReconcileResult | void): void {
    this.failureCounts.delete(key);
    if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }

  private failed(key: string, error: unknown): void {
    const failures = this.failures(key) + 1;
    this.failureCounts.set(key, failures);
    const retryInMs = backoffDelay(failures - 1, this.o.backoff, this.o.random);
    this.addAfter(key, retryInMs);
    this.report(() => this.o.onFailure(key, error, { failures, retryInMs }));
  }

  private abort(key: string, run: Run, reason: CancelReason): void {
    if (!run.reason || STRENGTH[reason] > STRENGTH[run.reason]) run.reason = reason;
    if (!run.controller.signal.aborted) run.controller.abort(new WorkCancelledError(key, reason));
  }

  private clearWaiting(key: string): void {
    const pending = this.waiting.get(key);
    if (!pending) return;
    this.o.clock.clearTimeout(pending.timer);
    this.waiting.delete(key);
  }

  private isIdle(): boolean {
    return this.running.size === 0 && (this.stopped || (this.ready.size === 0 && this.again.size === 0));
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || !this.idleWaiters.length) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Calls a caller's callback; a throw there must not leave the queue half-updated. */
  private report(callback: () => void): void {
    try {
      callback();
    } catch {
      // Documented: onFailure and onResyncError must not throw; the queue goes on regardless.
    }
  }
}
