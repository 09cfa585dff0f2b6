// The options of one flow run: one documented interface, one function that fills the defaults and validates.
import { systemClock, type Clock } from './clock.js';
import { InvalidOptionsError } from './errors.js';
import type { FlowJournal } from './flow-journal.js';
import type { FlowProgress } from './flow-progress.js';
import { MemoryFlowJournal } from './memory-flow-journal.js';

export interface FlowRunOptions {
  /** Which object's flow this is (say "Cluster/p1/shop-12/provision"); the journal keeps its place under it. */
  flowId: string;
  /** The object's spec as this run sees it (a generation or a hash): a run with another revision starts over. */
  revision: string;
  /** Default: a fresh MemoryFlowJournal, so nothing resumes. */
  journal?: FlowJournal;
  /** Aborts the flow: running steps are signalled, no step starts, the run rejects with FlowAbortedError. */
  signal?: AbortSignal;
  /** Called on each transition (steps started, a step done, an attempt failed, the end). Must not throw. */
  onProgress?: (progress: FlowProgress) => void;
  clock?: Clock;
  /** In [0, 1), for the retry jitter; tests pass a constant. Default Math.random. */
  random?: () => number;
}

export interface ResolvedFlowRunOptions {
  readonly flowId: string;
  readonly revision: string;
  readonly journal: FlowJournal;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: FlowProgress) => void;
  readonly clock: Clock;
  readonly random: () => number;
}

export function resolveFlowRunOptions(flow: string, opts: FlowRunOptions): ResolvedFlowRunOptions {
  if (typeof opts.flowId !== 'string' || !opts.flowId) throw new InvalidOptionsError(`flow "${flow}"`, 'a run needs a non-empty flowId: the journal keeps its place under it');
  if (typeof opts.revision !== 'string') throw new InvalidOptionsError(`flow "${flow}"`, `a run needs a revision string, not ${String(opts.revision)}`);
  return {
    flowId: opts.flowId,
    revision: opts.revision,
    journal: opts.journal ?? new MemoryFlowJournal(),
    signal: opts.signal ?? new AbortController().signal,
    onProgress: opts.onProgress ?? (() => undefined),
    clock: opts.clock ?? systemClock,
    random: opts.random ?? Math.random,
  };
}
