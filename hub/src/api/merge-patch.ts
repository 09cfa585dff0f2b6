// RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces.
import { BadRequestError } from '../errors.js';
import { MAX_JSON_DEPTH } from './json-body.js';

/** Refuses (400) a patch nested deeper than MAX_JSON_DEPTH rather than running out of stack on it. */
export function mergePatch(target: unknown, patch: unknown, depth = 1): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  if (depth > MAX_JSON_DEPTH) throw new BadRequestError(`the merge patch is nested deeper than ${MAX_JSON_DEPTH} levels; no Outpost resource is that deep`);
  const base: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value, depth + 1);
  }
  return base;
}
