// Named errors of the reconcile engine. Each carries what an operator (or the code catching it) needs to
// know which component, key, flow or step it is about, and keeps the underlying error as `cause`.
import { messageOf } from '@outpost/proto';
import type { FlowProgress, StepError } from './flow-progress.js';

export { messageOf };

/** Base of the engine's errors, so a caller can tell them from a step's or a handler's own errors. */
export class EngineError extends Error {
  override readonly name: string = 'EngineError';
}

/** Options or definitions that cannot work; thrown at construction, before anything runs. */
export class InvalidOptionsError extends EngineError {
  override readonly name = 'InvalidOptionsError';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
  }
}


/** Why the work queue aborted a run; it is the run's `signal.reason`. */
export type CancelReason = 'changed' | 'cancelled' | 'stopped';

/** The reason a work queue run's AbortSignal carries, so a handler can log why it was cut short. */
export class WorkCancelledError extends EngineError {
  override readonly name = 'WorkCancelledError';
  constructor(readonly key: string, readonly reason: CancelReason) {
    const why = { changed: 'the object changed; it runs again with the new version', cancelled: 'the object was deleted or its work cancelled', stopped: 'the work queue is stopping' }[reason];
    super(`work on "${key}" was cancelled: ${why}`);
  }
}

export type FlowDefinitionProblem = 'invalid-step' | 'duplicate-step' | 'unknown-dependency' | 'cycle';

/** A flow whose steps cannot run as given; `steps` names the ones involved (for a cycle, the cycle in order). */
export class FlowDefinitionError extends EngineError {
  override readonly name = 'FlowDefinitionError';
  constructor(readonly flow: string, readonly problem: FlowDefinitionProblem, readonly steps: readonly string[], detail: string) {
    super(`flow "${flow}" is invalid: ${detail}`);
  }
}

/** A step's attempt ran past its timeout; its AbortSignal fired with this reason. */
export class StepTimeoutError extends EngineError {
  override readonly name = 'StepTimeoutError';
  constructor(readonly step: string, readonly timeoutMs: number) {
    super(`step "${step}" timed out after ${timeoutMs} ms`);
  }
}

/** The flow journal could not be read or written; the flow stops rather than lose its place silently. */
export class FlowJournalError extends EngineError {
  override readonly name = 'FlowJournalError';
  constructor(readonly flowId: string, readonly action: string, cause: unknown) {
    super(`flow "${flowId}": the journal could not ${action}: ${messageOf(cause)}`, { cause });
  }
}

/** At least one step failed after all its attempts; the steps that depend on it never started. */
export class FlowFailedError extends EngineError {
  override readonly name = 'FlowFailedError';
  readonly errors: readonly StepError[];
  constructor(readonly flowId: string, readonly report: FlowProgress) {
    const listed = report.errors.map((e) => `step "${e.step}"${e.host ? ` on ${e.host}` : ''}: ${e.message}`).join('; ');
    super(`flow "${flowId}" failed at ${report.percent}%: ${listed}; the next run resumes at the failed step`);
    this.errors = report.errors;
  }
}

/** The flow's signal fired; running steps were cut short and no further steps started. */
export class FlowAbortedError extends EngineError {
  override readonly name = 'FlowAbortedError';
  constructor(readonly flowId: string, readonly report: FlowProgress, cause: unknown) {
    super(`flow "${flowId}" was aborted at ${report.percent}%: ${messageOf(cause)}`, { cause });
  }
}
