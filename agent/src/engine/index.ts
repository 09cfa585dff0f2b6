// The agent's reconcile engine (its components' lifecycle is @outpost/proto's): a keyed work queue, flows of idempotent
// steps and their journal. It knows no resource kind; seed/ and site/ build on it. Re-exports only.
export { Backoff, backoffDelay, backoffLimits, type BackoffLimits, type BackoffOptions } from './backoff.js';
export { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
export { untilAborted } from './until-aborted.js';
export { ManualClock } from './manual-clock.js';
export { WorkQueue, type AddOptions, type KeyStatus, type WorkQueueStats } from './work-queue.js';
export type { ReconcileResult, WorkHandler, WorkQueueOptions } from './work-queue-options.js';
export { Flow } from './flow.js';
export type { FlowStep, StepAttempt, StepRetry } from './flow-step.js';
export type { FlowRunOptions } from './flow-run-options.js';
export type { FlowProgress, FlowState, StepError } from './flow-progress.js';
export { lastErrors, lastOperation, type LastError, type LastOperation } from './flow-status.js';
export type { FlowJournal, FlowJournalRecord } from './flow-journal.js';
export { MemoryFlowJournal } from './memory-flow-journal.js';
export {
  EngineError, FlowAbortedError, FlowDefinitionError,
  FlowFailedError, FlowJournalError, InvalidOptionsError, StepTimeoutError, WorkCancelledError, type CancelReason, type FlowDefinitionProblem,
} from './errors.js';
