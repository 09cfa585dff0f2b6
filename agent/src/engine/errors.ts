// Named errors of the reconcile engine. Each carries what an operator (or the code catching it) needs to
// know which component, key, flow or step it is about, and keeps the underlying error as `cause`.

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

/** The message of anything thrown, for error texts. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One component's failure, as ComponentStartError and ComponentStopError list them. */
export interface ComponentFailure {
  readonly component: string;
  readonly error: unknown;
}

function listFailures(failures: readonly ComponentFailure[]): string {
  return failures.map((f) => `"${f.component}": ${messageOf(f.error)}`).join('; ');
}

/** A component failed to start; those started before it were stopped again (in reverse order). */
export class ComponentStartError extends EngineError {
  override readonly name = 'ComponentStartError';
  constructor(
    readonly component: string,
    cause: unknown,
    /** Components that then also failed to stop; empty when the rollback was clean. */
    readonly rollbackFailures: readonly ComponentFailure[] = [],
  ) {
    const rollback = rollbackFailures.length ? `; stopping the components started before it also failed: ${listFailures(rollbackFailures)}` : '';
    super(`component "${component}" failed to start: ${messageOf(cause)}${rollback}`, { cause });
  }
}

/** stop() was called while start() was still starting components; start() rejects with this. */
export class ComponentStartInterruptedError extends EngineError {
  override readonly name = 'ComponentStartInterruptedError';
  constructor(readonly notStarted: readonly string[]) {
    super(
      notStarted.length
        ? `stopped while starting; these components were never started: ${notStarted.join(', ')}`
        : 'stopped while starting, just after the last component started; every component is stopped again',
    );
  }
}

/** Every component that failed to stop. The others were still stopped: one failure does not skip the rest. */
export class ComponentStopError extends AggregateError {
  override readonly name = 'ComponentStopError';
  constructor(readonly failures: readonly ComponentFailure[]) {
    super(
      failures.map((f) => f.error),
      `${failures.length} component(s) failed to stop: ${listFailures(failures)}`,
    );
  }
}

/** A lifecycle call that the manager's state does not allow (start twice, add after start). */
export class ComponentManagerStateError extends EngineError {
  override readonly name = 'ComponentManagerStateError';
  constructor(readonly action: string, readonly state: string, hint: string) {
    super(`cannot ${action}: the component manager is ${state}; ${hint}`);
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
