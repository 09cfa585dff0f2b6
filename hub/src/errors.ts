// Named errors of the hub. Each carries the HTTP status and Kubernetes `reason` the admin API answers
// with, so one handler turns any of them into a Kubernetes Status response.
import type { FieldProblem, StatusReason } from '@outpost/proto';

export type Reason = StatusReason;

export class HubError extends Error {
  override readonly name: string = 'HubError';
  /** The Kubernetes CauseType of each of `causes` in the Status. */
  readonly causeReason: string = 'FieldValueInvalid';
  constructor(
    readonly status: number,
    readonly reason: Reason,
    message: string,
    readonly causes: readonly FieldProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ObjectName {
  kind: string;
  namespace?: string | undefined;
  name: string;
}

function describe(o: ObjectName): string {
  return o.namespace ? `${o.kind} "${o.name}" in project "${o.namespace}"` : `${o.kind} "${o.name}"`;
}

export class NotFoundError extends HubError {
  override readonly name = 'NotFoundError';
  constructor(readonly object: ObjectName) {
    super(404, 'NotFound', `${describe(object)} not found`);
  }
}

export class AlreadyExistsError extends HubError {
  override readonly name = 'AlreadyExistsError';
  constructor(readonly object: ObjectName) {
    super(409, 'AlreadyExists', `${describe(object)} already exists; use replace (outpost apply) to change it`);
  }
}

export class ConflictError extends HubError {
  override readonly name = 'ConflictError';
  constructor(readonly object: ObjectName, expected: string, actual: string) {
    super(409, 'Conflict', `${describe(object)} was changed since you read it (your resourceVersion ${expected}, now ${actual}); get it again and reapply your change`);
  }
}

export class InvalidError extends HubError {
  override readonly name = 'InvalidError';
  constructor(readonly object: ObjectName, problems: readonly FieldProblem[]) {
    super(422, 'Invalid', `${describe(object)} is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
}

export class BadRequestError extends HubError {
  override readonly name = 'BadRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'BadRequest', message, [], options);
  }
}

export class UnauthorizedError extends HubError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'no valid API token: send "Authorization: Bearer <token>" (outpost login writes it for the CLI)') {
    super(401, 'Unauthorized', message);
  }
}

export class ForbiddenError extends HubError {
  override readonly name = 'ForbiddenError';
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}
