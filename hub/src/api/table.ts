// Server-side printing, as kube-apiserver does it: a GET whose Accept asks for
// `application/json;as=Table;g=meta.k8s.io;v=v1` (kubectl get does) is answered with a meta.k8s.io Table
// of the kind's printer columns (proto's printer-columns.ts, which `outpost get` prints too), so
// `kubectl get` shows what `outpost get` shows. includeObject says what each row carries besides its cells.
import { printerColumns, type ResourceObject } from '@outpost/proto';
import { BadRequestError, HubError } from '../errors.js';

export type TableVersion = 'v1' | 'v1beta1';
/** kube-apiserver's TableOptions.includeObject: the whole object, its metadata only (the default), or nothing. */
export type IncludeObject = 'Object' | 'Metadata' | 'None';

export interface TableRequest {
  /** meta.k8s.io/<version>: kubectl asks for v1 first and v1beta1 second. */
  version: TableVersion;
  includeObject: IncludeObject;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim());
      return { type: type.toLowerCase(), params: Object.fromEntries(params.map((p) => p.split('=').map((s) => s.trim())).filter((kv) => kv.length === 2)) as Record<string, string> };
    })
    .filter((m) => m.type && m.params.q !== '0');
}

const JSON_TYPES = new Set(['application/json', 'application/*', '*/*']);

/**
 * What a GET's Accept header asks for, in its order: a Table (of which version), or the objects
 * themselves (plain JSON, and no header at all). An Accept the hub can serve nothing of is a 406 that
 * says what it can serve, rather than JSON a client would misread.
 */
export function acceptedTable(accept: string | undefined): TableVersion | undefined {
  if (!accept?.trim()) return undefined;
  for (const m of parseAccept(accept)) {
    const as = m.params.as;
    if (as === undefined && JSON_TYPES.has(m.type)) return undefined;
    if (as === 'Table' && m.type === 'application/json' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return m.params.v;
  }
  throw new HubError(406, 'NotAcceptable', `the hub cannot answer with ${accept}: it serves application/json, and application/json;as=Table;g=meta.k8s.io;v=v1 for GET`);
}

export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'Object' || value === 'None') return value;
  throw new BadRequestError(`includeObject=${value} is not Object, Metadata or None`);
}

/** The Table a GET asks for, or undefined when it asks for the objects. */
export function tableRequest(accept: string | undefined, includeObject: string | undefined): TableRequest | undefined {
  const version = acceptedTable(accept);
  return version ? { version, includeObject: parseIncludeObject(includeObject) } : undefined;
}

export interface TableRow {
  cells: Array<string | number | boolean>;
  object: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string };
  columnDefinitions?: Array<{ name: string; type: string; format: string; description: string; priority: number }>;
  rows: TableRow[];
}

function rowObject(o: ResourceObject, req: TableRequest): unknown {
  if (req.includeObject === 'Object') return o;
  if (req.includeObject === 'None') return null;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${req.version}`, metadata: o.metadata };
}

/**
 * `objects` (all of `kind`) as a Table. `noHeaders` leaves out the column definitions, as kube-apiserver
 * does for every watch event after the first.
 */
export function toTable(kind: string, objects: readonly ResourceObject[], resourceVersion: string | undefined, req: TableRequest, opts: { now?: number; noHeaders?: boolean } = {}): Table {
  const now = opts.now ?? Date.now();
  const columns = printerColumns(kind);
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${req.version}`,
    metadata: resourceVersion ? { resourceVersion } : {},
    ...(opts.noHeaders ? {} : { columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority })) }),
    rows: objects.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: rowObject(o, req) })),
  };
}

/**
 * What a Table watch sends as each event's object: a Table of that one object, with the column
 * definitions in the first event only; a BOOKMARK is an empty Table carrying the revision.
 */
export function tableWatchObjects(kind: string, req: TableRequest, now: () => number = Date.now): (type: string, object: ResourceObject) => Table {
  let headersSent = false;
  return (type, object) => {
    const rv = object.metadata.resourceVersion ?? undefined;
    if (type === 'BOOKMARK') return { kind: 'Table', apiVersion: `meta.k8s.io/${req.version}`, metadata: rv ? { resourceVersion: rv } : {}, rows: [] };
    const table = toTable(kind, [object], rv, req, { now: now(), noHeaders: headersSent });
    headersSent = true;
    return table;
  };
}
