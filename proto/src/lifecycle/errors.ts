// Named errors of the component lifecycle: which component failed to start or stop, and why (as `cause`).

/** The message of anything thrown, for error texts. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Base of the lifecycle's errors. */
export class LifecycleError extends Error {
  override readonly name: string = 'LifecycleError';
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
export class ComponentStartError extends LifecycleError {
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
export class ComponentStartInterruptedError extends LifecycleError {
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
export class ComponentManagerStateError extends LifecycleError {
  override readonly name = 'ComponentManagerStateError';
  constructor(readonly action: string, readonly state: string, hint: string) {
    super(`cannot ${action}: the component manager is ${state}; ${hint}`);
  }
}


/** Two components of one manager with one name: errors and health could not tell them apart. */
export class DuplicateComponentError extends LifecycleError {
  override readonly name = 'DuplicateComponentError';
  constructor(readonly component: string) {
    super(`a component named "${component}" is already added; names must be unique`);
  }
}
