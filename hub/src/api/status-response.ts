// Every admin API error is a Kubernetes Status object, so kubectl and client libraries understand it.
import { HubError } from '../errors.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: { causes: Array<{ field: string; message: string; reason: string }> };
}

export function statusBody(err: unknown): StatusBody {
  if (err instanceof HubError) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      code: err.status,
      ...(err.causes.length ? { details: { causes: err.causes.map((c) => ({ field: c.field, message: c.message, reason: 'FieldValueInvalid' })) } } : {}),
    };
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `internal error: ${(err as Error)?.message ?? String(err)}`, reason: 'InternalError', code: 500 };
}
