// What a write's body must be before any code walks it: JSON, sent as JSON, and not nested so deep that
// a recursive walk (merge patch, shape check, admission) runs out of stack.
import { BadRequestError, HubError } from '../errors.js';

/**
 * The deepest nesting of objects and arrays a body may have. Outpost's resources nest about six deep;
 * Kubernetes' decoder allows 10,000, which a recursive walk in JavaScript does not survive.
 */
export const MAX_JSON_DEPTH = 100;

/** True when `value` nests objects or arrays deeper than `max`. Iterative: it must not recurse itself. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** Parses a request body as JSON, refusing (400) one that is not JSON or nests deeper than MAX_JSON_DEPTH. */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError(`request body is not JSON (${(cause as Error).message}); the CLI converts YAML for you: outpost apply -f FILE`, { cause });
  }
  if (nestedDeeperThan(value, MAX_JSON_DEPTH)) throw new BadRequestError(`request body is nested deeper than ${MAX_JSON_DEPTH} levels; no Outpost resource is that deep: check what wrote it`);
  return value;
}

/** A body that must be one JSON object: `what` names it for the message ("a Site", "a merge patch"). */
export function requireObject(body: unknown, what: string): asserts body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new BadRequestError(`${what} must be a JSON object, not ${got}; nothing was written`);
  }
}

/**
 * POST and PUT take application/json only (the CLI converts YAML; kubectl sends JSON). A body sent as
 * text/plain or a form is refused rather than guessed at: a browser may send those cross-origin without
 * asking first, and a guess is how a wrong write gets in.
 */
export function requireJsonMedia(contentType: string | undefined): void {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json') throw new HubError(415, 'UnsupportedMediaType', `send the body as application/json, not ${contentType || 'no content-type'}; the CLI converts YAML for you: outpost apply -f FILE`);
}
