// The body of every error the hub answers over HTTP: a Kubernetes Status, so kubectl and client libraries
// read the admin API's errors, and the agent reads the join endpoint's and the WebSocket upgrade's
// refusals, from one shape. The hub builds each one with statusBody; the agent reads them with readStatus.

/** Kubernetes StatusReason values the hub uses. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable';

/** One field's problem (Kubernetes StatusCause). */
export interface StatusCause {
  /** Dotted JSON path, e.g. "spec.datacenter". */
  field: string;
  message: string;
  /** Kubernetes CauseType, e.g. "FieldValueInvalid". */
  reason: string;
}

export interface StatusDetails {
  /** The object refused, as Kubernetes names it (kubectl says `The Cluster "pos" is invalid`). */
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  /** Outpost's machine-readable refusal code, where a client acts on it (join: TOKEN_USED, TOKEN_EXPIRED, ...). */
  code?: string;
  /** With 429: when to try again (also the Retry-After header), as Kubernetes' StatusDetails has it. */
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  /** The HTTP status code it is sent with. */
  code: number;
  details?: StatusDetails;
}

/** A failure Status; `details` is left out when it says nothing. */
export function statusBody(code: number, reason: StatusReason, message: string, details?: StatusDetails): StatusBody {
  const d: StatusDetails = {};
  if (details?.name) d.name = details.name;
  if (details?.group) d.group = details.group;
  if (details?.kind) d.kind = details.kind;
  if (details?.causes?.length) d.causes = details.causes;
  if (details?.code) d.code = details.code;
  if (details?.retryAfterSeconds) d.retryAfterSeconds = details.retryAfterSeconds;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(Object.keys(d).length ? { details: d } : {}) };
}

/** The Status in an HTTP error body, or undefined when the body is not one (a proxy's page, say). */
export function readStatus(text: string): StatusBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const s = parsed as Partial<StatusBody> | null;
  if (s?.kind !== 'Status' || typeof s.message !== 'string') return undefined;
  return s as StatusBody;
}
