// Every admin API error is a Kubernetes Status object, so kubectl and client libraries understand it.
// The body comes from proto's statusBody, the one builder of every error the hub sends over HTTP.
import { API_GROUP, statusBody, type StatusBody } from '@outpost/proto';
import { HubError, InvalidError } from '../errors.js';

/** The Status for an error thrown while serving a request: a HubError as it says, anything else a 500. */
export function errorStatus(err: unknown): StatusBody {
  if (err instanceof HubError) {
    const causes = err.causes.map((c) => ({ field: c.field, message: c.message, reason: err.causeReason }));
    // As kube-apiserver's: the refused object in details, which kubectl names in its message.
    const object = err instanceof InvalidError ? { group: API_GROUP, kind: err.object.kind, name: err.object.name } : {};
    return statusBody(err.status, err.reason, err.message, { ...object, causes });
  }
  return statusBody(500, 'InternalError', `internal error: ${(err as Error)?.message ?? String(err)}`);
}
