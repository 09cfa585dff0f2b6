// A list's `continue` token: opaque to clients, base64url JSON of where the next page starts (the last
// key served), the revision the list is of, and which collection it belongs to, so a token is never
// taken for another kind's or project's list.
import { BadRequestError } from '../errors.js';
import type { PageKey } from '../store/list-page.js';

export interface ContinueToken {
  /** The list's revision: every page of one list shows the store as of it. */
  revision: number;
  /** The collection: kind and project (undefined: all projects, or a cluster-scoped kind). */
  kind: string;
  namespace: string | undefined;
  after: PageKey;
}

interface Encoded {
  rv: number;
  kind: string;
  ns: string | null;
  after: [string, string];
}

export function encodeContinue(t: ContinueToken): string {
  const e: Encoded = { rv: t.revision, kind: t.kind, ns: t.namespace ?? null, after: [t.after.namespace, t.after.name] };
  return Buffer.from(JSON.stringify(e)).toString('base64url');
}

const bad = (why: string): never => {
  throw new BadRequestError(`the continue token is not valid (${why}): pass metadata.continue from the previous page unchanged, or list again without continue`);
};

export function decodeContinue(raw: string, scope: { kind: string; namespace: string | undefined }): ContinueToken {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) bad('not base64url');
  let e: unknown;
  try {
    e = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return bad('not one this hub made');
  }
  const o = e as Partial<Encoded> | null;
  const ok =
    !!o && typeof o === 'object' && Number.isSafeInteger(o.rv) && (o.rv as number) > 0 && typeof o.kind === 'string' && (o.ns === null || typeof o.ns === 'string') &&
    Array.isArray(o.after) && o.after.length === 2 && o.after.every((s) => typeof s === 'string');
  if (!ok) return bad('not one this hub made');
  const t = o as Encoded;
  if (t.kind !== scope.kind || (t.ns ?? undefined) !== scope.namespace) bad(`it continues a list of ${t.kind}${t.ns ? ` in "${t.ns}"` : ''}, not this one`);
  return { revision: t.rv, kind: t.kind, namespace: t.ns ?? undefined, after: { namespace: t.after[0], name: t.after[1] } };
}
