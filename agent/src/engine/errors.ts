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
