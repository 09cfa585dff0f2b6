// One page of a list, read from SQLite by key range: `(namespace, name) > after` in primary-key order,
// selectors in the WHERE clause, LIMIT n+1 (the extra row says whether more follow). Nothing is loaded
// whole and filtered in JavaScript, so a page of 500 out of 100,000 objects reads about 500 rows.
//
// A page can be read as of an earlier revision R (a continued list, or resourceVersionMatch=Exact):
// objects not written since R are read from `objects` as they are; for those written since (changed,
// deleted, created), the state at R comes from the change log, which holds every write after the
// compacted revision. That is a consistent snapshot, as Kubernetes' continue tokens promise, for as long
// as the log reaches back to R; past that (R below the compacted revision, or an object whose state at R
// was written before it) the page is refused with 410 Gone, as Kubernetes does once etcd has compacted,
// and the client lists again.
import type { ResourceObject } from '@outpost/proto';
import type { Statement } from 'better-sqlite3';
import { BadRequestError, HubError } from '../errors.js';
import type { Db } from './db.js';
import { matchesRequirements, requirementsSql, type LabelRequirements } from './label-requirement.js';

/** `metadata.name` or `metadata.namespace` is (or, negated, is not) `value`: the columns of the key. */
export interface KeyFieldTerm {
  field: 'name' | 'namespace';
  value: string;
  negated: boolean;
}

export interface PageKey {
  namespace: string;
  name: string;
}

export interface PageOptions {
  namespace?: string | undefined;
  labelSelector?: LabelRequirements | undefined;
  fields?: readonly KeyFieldTerm[] | undefined;
  /** At most this many items; undefined or 0 for all. */
  limit?: number | undefined;
  /** Start after this key (the last key of the page before). */
  after?: PageKey | undefined;
  /** Read as of this revision; default the store's revision now. */
  atRevision?: number | undefined;
}

export interface Page<T extends ResourceObject = ResourceObject> {
  items: T[];
  /** The revision the page shows. */
  revision: number;
  /** The last item's key when more follow: where the next page starts. Undefined on the last page. */
  next?: PageKey;
  /** How many items follow this page, when the options had no selector (Kubernetes' remainingItemCount). */
  remaining?: number;
}

/** The revision a page was asked at is no longer readable: list again from the start (410 Expired, as kube-apiserver answers an expired continue). */
export class ListExpiredError extends HubError {
  override readonly name = 'ListExpiredError';
  constructor(revision: number, why: string) {
    super(410, 'Expired', `the list at resourceVersion ${revision} can no longer be continued: ${why}; list again without continue (or with a newer resourceVersion)`);
  }
}

interface ObjectRow {
  namespace: string;
  name: string;
  body: string;
}

interface ChangeRow {
  type: string;
  body: string;
}

// Statements by SQL text, per database: a selector's shape (how many terms, how many values) is part of
// the SQL. Bounded, since a caller chooses the shapes.
const cache = new WeakMap<Db, Map<string, Statement>>();
const CACHE_MAX = 256;

function prepare<R>(db: Db, sql: string): Statement<unknown[], R> {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) {
    if (m.size >= CACHE_MAX) m.clear();
    s = db.prepare(sql);
    m.set(sql, s);
  }
  return s as Statement<unknown[], R>;
}

/** The WHERE clause shared by `objects` and `changes` (both have kind, namespace, name): scope, range and key fields. */
function scopeSql(kind: string, opts: PageOptions, after: PageKey, kindColumn = 'kind'): { sql: string; params: unknown[] } {
  const parts = [`${kindColumn} = ?`];
  const params: unknown[] = [kind];
  const ns = opts.namespace;
  if (ns === undefined) {
    parts.push('(namespace, name) > (?, ?)');
    params.push(after.namespace, after.name);
  } else {
    // One project: `namespace = ? AND name > ?` is a range of the primary key; the row value is not.
    parts.push('namespace = ?', 'name > ?');
    params.push(ns, after.namespace === ns ? after.name : '');
    if (after.namespace > ns) parts.push('0');
  }
  for (const f of opts.fields ?? []) {
    parts.push(`${f.field} ${f.negated ? '!=' : '='} ?`);
    params.push(f.value);
  }
  return { sql: parts.join(' AND '), params };
}

const byKey = (a: PageKey, b: PageKey): number => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** What each object written after `at` in the range was at `at` (undefined: it did not exist then). */
function stateAt(db: Db, kind: string, opts: PageOptions, after: PageKey, at: number): Array<{ key: PageKey; obj: ResourceObject | undefined }> {
  // `+kind`: read the log by revision (the writes since `at`, usually few), not every write of the kind.
  const scope = scopeSql(kind, opts, after, '+kind');
  const keys = prepare<PageKey>(db, `SELECT DISTINCT namespace, name FROM changes WHERE revision > ? AND ${scope.sql}`).all(at, ...scope.params);
  const before = prepare<ChangeRow>(db, 'SELECT type, body FROM changes WHERE kind = ? AND namespace = ? AND name = ? AND revision <= ? ORDER BY revision DESC LIMIT 1');
  const firstAfter = prepare<ChangeRow>(db, 'SELECT type, body FROM changes WHERE kind = ? AND namespace = ? AND name = ? AND revision > ? ORDER BY revision LIMIT 1');
  return keys.map((key) => {
    const last = before.get(kind, key.namespace, key.name, at);
    if (last) return { key, obj: last.type === 'DELETED' ? undefined : (JSON.parse(last.body) as ResourceObject) };
    // No write at or before `at` in the log: created after it, or last written before the compacted revision.
    if (firstAfter.get(kind, key.namespace, key.name, at)?.type === 'ADDED') return { key, obj: undefined };
    throw new ListExpiredError(at, `${kind} "${key.name}"${key.namespace ? ` in "${key.namespace}"` : ''} changed since, and its state then is compacted`);
  });
}

function matchesKeyFields(fields: readonly KeyFieldTerm[] | undefined, key: PageKey): boolean {
  return (fields ?? []).every((f) => (key[f.field] === f.value) !== f.negated);
}

export function readPage(db: Db, kind: string, opts: PageOptions, revision: number, compacted: number): Page {
  const at = opts.atRevision ?? revision;
  if (at > revision) throw new BadRequestError(`resourceVersion ${at} is newer than the hub's revision ${revision}`);
  const past = at < revision;
  if (past && at < compacted) throw new ListExpiredError(at, `the change log is compacted up to ${compacted}`);
  const after = opts.after ?? { namespace: '', name: '' };
  const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
  const scope = scopeSql(kind, opts, after);
  const labels = requirementsSql(opts.labelSelector);
  const asOf = past ? ' AND revision <= ?' : '';
  const where = `${scope.sql}${asOf} AND ${labels.sql}`;
  const params = [...scope.params, ...(past ? [at] : []), ...labels.params];
  const rows = prepare<ObjectRow>(db, `SELECT namespace, name, body FROM objects WHERE ${where} ORDER BY namespace, name LIMIT ?`).all(...params, limit === undefined ? -1 : limit + 1);
  let found: Array<{ key: PageKey; obj: ResourceObject }> = rows.map((r) => ({ key: { namespace: r.namespace, name: r.name }, obj: JSON.parse(r.body) as ResourceObject }));
  let history: Array<{ key: PageKey; obj: ResourceObject }> = [];
  if (past) {
    history = stateAt(db, kind, opts, after, at).flatMap((h) => (h.obj && matchesRequirements(opts.labelSelector, h.obj) && matchesKeyFields(opts.fields, h.key) ? [{ key: h.key, obj: h.obj }] : []));
    found = [...found, ...history].sort((a, b) => byKey(a.key, b.key));
  }
  const more = limit !== undefined && found.length > limit;
  const items = more ? found.slice(0, limit) : found;
  const page: Page = { items: items.map((f) => f.obj), revision: at };
  if (!more) return page;
  const next = items[items.length - 1]!.key;
  page.next = next;
  if (!opts.labelSelector?.length && !opts.fields?.length) {
    const rest = scopeSql(kind, opts, next);
    const stored = prepare<{ n: number }>(db, `SELECT count(*) AS n FROM objects WHERE ${rest.sql}${asOf}`).get(...rest.params, ...(past ? [at] : []))!.n;
    page.remaining = stored + history.filter((h) => byKey(h.key, next) > 0).length;
  }
  return page;
}
