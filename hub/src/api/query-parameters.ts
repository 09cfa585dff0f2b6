// Which query parameters each verb on a resource takes, in one table, as kube-apiserver's ListOptions,
// GetOptions, CreateOptions, UpdateOptions, PatchOptions and DeleteOptions. A parameter a verb does not
// take is a 400 that names it: a misspelt `labelSelecter` or `limt` ignored answers everything and reads
// as if it had worked. A value of the wrong form is a 400 here too; what a well-formed value means (a
// selector, a continue token, a resourceVersion) is checked where it is acted on.
//
// Accepted and what the hub does with them:
//   timeout (kubectl --request-timeout): every verb answers without waiting on anything, so within it.
//   pretty: JSON answers are indented (a watch stays one event a line, as Kubernetes').
//   includeObject (kubectl --sort-by sends Object): what a Table's rows carry (table.ts).
//   fieldManager, fieldValidation, force: server-side apply's (and field validation's) parameters.
//   gracePeriodSeconds, propagationPolicy, orphanDependents: nothing to act on (no pods, no dependents).
import type { MiddlewareHandler } from 'hono';
import { BadRequestError } from '../errors.js';
import { parseFieldSelector } from './field-selector.js';
import { parseLabelSelector } from './label-selector.js';
import type { ListRequest } from './resource-service.js';

export type Operation = 'list' | 'watch' | 'get' | 'create' | 'update' | 'patch' | 'delete';

/** A problem with the value, or undefined when it is of the right form. */
type Check = (value: string) => string | undefined;

const any: Check = () => undefined;
const bool: Check = (v) => (['true', 'false', '1', '0'].includes(v) ? undefined : 'is not true or false');
const oneOf = (...values: string[]): Check => (v) => (values.includes(v) ? undefined : `is not one of ${values.join(', ')}`);
const wholeNumber: Check = (v) => (/^[0-9]{1,15}$/.test(v) ? undefined : 'is not a whole number');
const integer: Check = (v) => (/^-?[0-9]{1,15}$/.test(v) ? undefined : 'is not a whole number');
// Go's time.ParseDuration, which kube-apiserver reads `timeout` with: "30s", "1m30s", "500ms".
const goDuration: Check = (v) => (/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? undefined : 'is not a duration such as 30s or 1m');

interface Parameter {
  check: Check;
  /** May be given more than once (dryRun, as Kubernetes' list of dry-run stages). */
  repeated?: boolean;
}

const P = {
  labelSelector: { check: any },
  fieldSelector: { check: any },
  limit: { check: wholeNumber },
  continue: { check: any },
  resourceVersion: { check: any },
  resourceVersionMatch: { check: oneOf('NotOlderThan', 'Exact') },
  watch: { check: bool },
  allowWatchBookmarks: { check: bool },
  timeoutSeconds: { check: wholeNumber },
  // The hub's watch replays from resourceVersion; a watch that opens with the current state (true) is not served.
  sendInitialEvents: { check: (v: string) => (v === 'false' ? undefined : v === 'true' ? 'is not supported: list, then watch from the list\'s resourceVersion' : 'is not true or false') },
  // Which part of each Table row's object is sent (table.ts checks it).
  includeObject: { check: any },
  pretty: { check: bool },
  timeout: { check: goDuration },
  dryRun: { check: any, repeated: true },
  // Their values are server-side apply's to check (write-options.ts), where they are acted on.
  fieldManager: { check: any },
  fieldValidation: { check: any },
  force: { check: any },
  gracePeriodSeconds: { check: integer },
  propagationPolicy: { check: oneOf('Orphan', 'Background', 'Foreground') },
  orphanDependents: { check: bool },
} satisfies Record<string, Parameter>;

type Name = keyof typeof P;

const COMMON: Name[] = ['pretty', 'timeout'];
const WRITE: Name[] = [...COMMON, 'dryRun', 'fieldManager', 'fieldValidation'];

/** The table: what each verb takes. */
export const PARAMETERS: Readonly<Record<Operation, readonly Name[]>> = {
  list: [...COMMON, 'labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'watch', 'timeoutSeconds', 'includeObject'],
  watch: [...COMMON, 'labelSelector', 'fieldSelector', 'resourceVersion', 'watch', 'allowWatchBookmarks', 'timeoutSeconds', 'sendInitialEvents', 'includeObject'],
  get: [...COMMON, 'resourceVersion', 'includeObject'],
  create: WRITE,
  update: WRITE,
  patch: [...WRITE, 'force'],
  delete: [...COMMON, 'dryRun', 'gracePeriodSeconds', 'propagationPolicy', 'orphanDependents', 'resourceVersion'],
};

const isName = (n: string): n is Name => Object.hasOwn(P, n);


/** The operation of a request on a resource path; undefined for a method no resource takes. */
export function operationOf(method: string, named: boolean, watch: string | undefined): Operation | undefined {
  if (method === 'GET') return named ? 'get' : watch === 'true' || watch === '1' ? 'watch' : 'list';
  if (method === 'POST') return named ? undefined : 'create';
  if (!named) return undefined;
  return ({ PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as const)[method as 'PUT'];
}

/** Throws BadRequestError for the first parameter `op` does not take or whose value is of the wrong form. */
export function checkQuery(query: Readonly<Record<string, readonly string[]>>, op: Operation): void {
  const allowed = PARAMETERS[op];
  for (const [name, values] of Object.entries(query)) {
    if (!isName(name) || !allowed.includes(name)) {
      const takers = isName(name) ? (Object.keys(PARAMETERS) as Operation[]).filter((o) => PARAMETERS[o].includes(name)) : [];
      const where = takers.length ? `; it applies to ${takers.join(', ')}` : '';
      throw new BadRequestError(`query parameter "${name}" is not accepted on ${op}${where}; ${op} takes ${allowed.join(', ')}`);
    }
    const param: Parameter = P[name];
    if (values.length > 1 && !param.repeated) throw new BadRequestError(`query parameter "${name}" is given ${values.length} times; give it once`);
    for (const v of values) {
      const problem = param.check(v);
      if (problem) throw new BadRequestError(`${name}=${v} ${problem}`);
    }
  }
}

/** A list's parameters, already checked for form by checkQuery. */
export function listRequest(query: (name: string) => string | undefined): ListRequest {
  const limit = query('limit');
  return {
    labelSelector: parseLabelSelector(query('labelSelector')),
    fieldSelector: parseFieldSelector(query('fieldSelector')),
    limit: limit === undefined ? undefined : Number(limit),
    continue: query('continue'),
    resourceVersion: query('resourceVersion'),
    resourceVersionMatch: query('resourceVersionMatch') as ListRequest['resourceVersionMatch'],
  };
}

/** A GET of one object at resourceVersion N: the newest is "not older than" N if the hub has reached N. */
export function checkGetRevision(resourceVersion: string | undefined, now: number): void {
  if (!resourceVersion || resourceVersion === '0') return;
  if (!/^[0-9]{1,15}$/.test(resourceVersion)) throw new BadRequestError(`resourceVersion "${resourceVersion}" is not a revision number`);
  if (Number(resourceVersion) > now) throw new BadRequestError(`resourceVersion ${resourceVersion} is newer than the hub's revision ${now}; get without resourceVersion for the newest`);
}

/** ?pretty=true: the JSON answer indented. A watch's stream is left one event a line. */
export const prettyJson: MiddlewareHandler = async (c, next) => {
  await next();
  const pretty = c.req.query('pretty');
  if ((pretty !== 'true' && pretty !== '1') || c.req.query('watch') === 'true' || c.req.query('watch') === '1') return;
  if (!c.res.headers.get('content-type')?.startsWith('application/json')) return;
  const body: unknown = await c.res.json();
  const headers = new Headers(c.res.headers);
  headers.delete('content-length');
  c.res = new Response(`${JSON.stringify(body, null, 2)}\n`, { status: c.res.status, headers });
};
