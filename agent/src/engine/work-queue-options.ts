// The work queue's options: one documented interface, one function that fills the defaults and validates.
import { backoffLimits, type BackoffLimits, type BackoffOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { InvalidOptionsError } from './errors.js';

/** What a handler may ask for when it succeeds. */
export interface ReconcileResult {
  /** Run this key again after so many ms, even if nothing changes (polling for a slow external state). */
  requeueAfterMs?: number;
}

/**
 * Makes one key's object real. Must be idempotent: a key runs again after a change, a resync or a crash.
 * A throw means "retry later, with backoff". `signal` fires when the object changed or was deleted
 * meanwhile, or the queue stops; a handler should then return (or throw) soon, because the queue never
 * starts a second run of the same key while this one is still going.
 */
export type WorkHandler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  handler: WorkHandler;
  /** Names the queue as a component (health, errors). Default "work-queue". */
  name?: string;
  /** Keys run in parallel at most. Default 1, as controller-runtime's MaxConcurrentReconciles. */
  concurrency?: number;
  /** Per-key retry delays after a failure. Default base 1 s, cap 5 min. */
  backoff?: BackoffOptions;
  /** Every key the queue should hold; with it, start() adds them all, and so does each resync. */
  listKeys?: () => Iterable<string>;
  /** How often to re-add every listed key, so drift is repaired without an event. Default 10 min. */
  resyncMs?: number;
  clock?: Clock;
  /** In [0, 1); tests pass a constant to get exact retry delays. Default Math.random. */
  random?: () => number;
  /** A run failed and will be retried in `retryInMs`; for logging. Must not throw (a throw is ignored). */
  onFailure?: (key: string, error: unknown, retry: { failures: number; retryInMs: number }) => void;
  /** listKeys threw; that resync is skipped and the next one tried on time. Must not throw. */
  onResyncError?: (error: unknown) => void;
}

export interface ResolvedWorkQueueOptions {
  readonly handler: WorkHandler;
  readonly name: string;
  readonly concurrency: number;
  readonly backoff: BackoffLimits;
  readonly listKeys: (() => Iterable<string>) | undefined;
  readonly resyncMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onFailure: NonNullable<WorkQueueOptions['onFailure']>;
  readonly onResyncError: NonNullable<WorkQueueOptions['onResyncError']>;
}

export function resolveWorkQueueOptions(opts: WorkQueueOptions): ResolvedWorkQueueOptions {
  const name = opts.name ?? 'work-queue';
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidOptionsError(`work queue "${name}"`, `concurrency must be a whole number >= 1, not ${concurrency}`);
  const resyncMs = opts.resyncMs ?? 600_000;
  if (!(resyncMs > 0) || !Number.isFinite(resyncMs)) throw new InvalidOptionsError(`work queue "${name}"`, `resyncMs must be a finite number > 0, not ${resyncMs}`);
  if (opts.resyncMs !== undefined && !opts.listKeys) throw new InvalidOptionsError(`work queue "${name}"`, 'resyncMs needs listKeys: a resync re-adds the keys listKeys returns');
  return {
    handler: opts.handler,
    name,
    concurrency,
    backoff: backoffLimits({ baseMs: opts.backoff?.baseMs ?? 1_000, capMs: opts.backoff?.capMs ?? 300_000 }, `work queue "${name}" backoff`),
    listKeys: opts.listKeys,
    resyncMs,
    clock: opts.clock ?? systemClock,
    random: opts.random ?? Math.random,
    onFailure: opts.onFailure ?? (() => undefined),
    onResyncError: opts.onResyncError ?? (() => undefined),
  };
}
