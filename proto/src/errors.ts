// Named errors of the proto package. Messages say what is wrong and what to do.

/** A WebSocket frame that cannot be a valid Envelope. The connection that sent it is closed. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: 'FRAME_TOO_LARGE' | 'FRAME_MALFORMED' | 'FRAME_EMPTY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface FieldProblem {
  /** Dotted JSON path, e.g. "spec.controlPlane.replicas". */
  field: string;
  message: string;
}

/** A resource whose JSON does not fit the schema. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  }
}
