// RFC 6902 JSON Patch (PATCH application/json-patch+json, kubectl patch --type=json), with
// fast-json-patch doing the operations. This module only tells a malformed patch (400: fix the patch)
// from one that does not apply to the object as it is now (422: a failed test, a path that is not there).
import fastJsonPatch from 'fast-json-patch';
import { BadRequestError, HubError } from '../errors.js';

const { applyPatch, JsonPatchError } = fastJsonPatch;
type Operation = fastJsonPatch.Operation;

/** The patch does not fit the object: a failed test, or a path or index that is not there. */
export class JsonPatchFailedError extends HubError {
  override readonly name = 'JsonPatchFailedError';
  constructor(message: string, field: string) {
    super(422, 'Invalid', message, [{ field, message }]);
  }
}

/** The errors that say the patch itself is wrong, whatever the object. */
const MALFORMED = new Set(['SEQUENCE_NOT_AN_ARRAY', 'OPERATION_NOT_AN_OBJECT', 'OPERATION_OP_INVALID', 'OPERATION_PATH_INVALID', 'OPERATION_FROM_REQUIRED', 'OPERATION_VALUE_REQUIRED', 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED']);

function describe(op: unknown, index: number): string {
  const o = (op ?? {}) as { op?: unknown; path?: unknown; from?: unknown };
  const from = typeof o.from === 'string' ? ` from ${o.from}` : '';
  return `operation ${index} (${String(o.op)} ${String(o.path)}${from})`;
}

/**
 * `doc` after `patch`, `doc` itself untouched. Every operation is checked before any is applied, so a
 * bad one never leaves half a patch behind (the caller's transaction would roll it back anyway).
 */
export function applyJsonPatch<T>(doc: T, patch: unknown): T {
  if (!Array.isArray(patch)) throw new BadRequestError('a JSON patch is a list of operations, such as [{"op": "replace", "path": "/spec/version", "value": "1.33.1"}]; nothing was written');
  try {
    return applyPatch(doc, patch as Operation[], true, false).newDocument;
  } catch (err) {
    // fast-json-patch bans __proto__ and constructor/prototype paths with a bare TypeError.
    if (err instanceof TypeError && err.message.includes('banned for security reasons')) throw new BadRequestError('a JSON patch may not touch __proto__, constructor or prototype; nothing was written', { cause: err });
    if (!(err instanceof JsonPatchError)) throw err;
    const index = err.index ?? 0;
    const what = describe(patch[index], index);
    if (MALFORMED.has(err.name)) throw new BadRequestError(`the JSON patch's ${what} is malformed: ${firstLine(err.message)}; nothing was written`, { cause: err });
    if (err.name === 'TEST_OPERATION_FAILED') throw new JsonPatchFailedError(`the JSON patch's ${what} failed: the object holds another value there; nothing was written`, String((patch[index] as { path?: unknown }).path));
    throw new JsonPatchFailedError(`the JSON patch's ${what} does not apply to the object: ${firstLine(err.message)}; nothing was written`, String((patch[index] as { path?: unknown }).path));
  }
}

/** fast-json-patch appends the operation and the whole document to its messages; one line is enough. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
