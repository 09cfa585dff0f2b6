// The admin API and the agents' join endpoint, as one Hono app. Tested in process with app.request().
import { CA_PATH, JOIN_PATH, PROTOCOL_MAJOR, PROTOCOL_MINOR, statusBody, type NamedHealth, type ResourceObject } from '@outpost/proto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authenticate, type Principal } from '../auth/principal.js';
import { JoinError, redeemBootstrapToken } from '../auth/agent-identity.js';
import { JoinThrottle } from '../auth/join-throttle.js';
import { systemClock, type Clock } from '../clock.js';
import { BadRequestError, HubError } from '../errors.js';
import type { PresenceFeed } from '../store/presence-table.js';
import type { Store } from '../store/store.js';
import type { ClusterPki } from '../pki/cluster-pki.js';
import { clientAddress } from './client-address.js';
import { blobRoutes, type BlobRoutesOptions } from './blob-routes.js';
import { aroundClusterCreate, clusterKubeconfigRoutes } from './cluster-kubeconfig.js';
import { discoveryRoutes } from './discovery-routes.js';
import { API_PREFIX, parseResourcePath } from './resource-path.js';
import { ResourceService } from './resource-service.js';
import { errorStatus } from './status-response.js';
import { parseJson, requireJsonMedia } from './json-body.js';
import { checkGetRevision, checkQuery, listRequest, operationOf, prettyJson } from './query-parameters.js';
import { tableRequest, tableWatchObjects, toTable } from './table.js';
import { watchResponse, type WatchOptions } from './watch.js';
import { applyBody, parseForce, patchType, warningHeader, writeOptions } from './write-options.js';

export interface ApiOptions {
  store: Store;
  /** Agents' presence changes, for watches of agents (written by Presence, beside the revisions). */
  presence: PresenceFeed;
  /** Where token expiry reads the time. Default the system clock. */
  clock?: Clock;
  caCertPem: string;
  version: string;
  log?: { warn(obj: object, msg: string): void };
  /** How often a watch that allows bookmarks gets one (Kubernetes: about every minute). */
  watchBookmarkEveryMs?: number;
  /** Failed joins one remote address may make per minute before it is answered 429. Default 10. */
  maxFailedJoinsPerMinute?: number;
  /** A watch's bounds: buffered bytes, token recheck interval, default lifetime (see watch.ts for the defaults). */
  watchLimits?: Omit<WatchOptions, 'bookmarkEveryMs' | 'recheck' | 'present'>;
  /** The hub's components, for /healthz. Default: the API alone, which is up if it answers. */
  health?: () => readonly NamedHealth[];
  /** Every Cluster's CAs, made with it; and the kubeconfig subresource. Without it neither is served. */
  clusterPki?: ClusterPki;
  /** The artifact content store and its upload limit; without it no blob is served. */
  blobs?: Omit<BlobRoutesOptions, 'store' | 'clock'>;
}

type Env = { Variables: { principal: Principal } };

async function jsonBody(c: Context): Promise<unknown> {
  return parseJson(await c.req.text());
}

/**
 * `?dryRun=All` (Kubernetes' only value) on a write verb; anything else is refused rather than ignored,
 * since a dry run taken for a real write is the one mistake an operator cannot take back.
 */
function parseDryRun(values: string[] | undefined): boolean {
  if (!values?.length) return false;
  if (values.some((v) => v !== 'All')) throw new BadRequestError(`dryRun=${values.join(',')} is not supported: the only value is All (kubectl --dry-run=server sends it); nothing was written`);
  return true;
}

/** The parts of a Kubernetes DeleteOptions body the hub acts on. */
interface DeleteOptions {
  dryRun?: string[];
  preconditions?: { resourceVersion?: string };
}

/**
 * A DELETE's body, if any: kubectl sends its dry run there (DeleteOptions{dryRun: ["All"]}), not in the
 * query, so a body that is not read is a dry run that deletes. propagationPolicy and gracePeriodSeconds
 * have nothing to act on here (no dependents, no pods) and are accepted.
 */
async function deleteOptions(c: Context): Promise<DeleteOptions> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError(`the DELETE body is not JSON (${(cause as Error).message}); send a DeleteOptions object or none; nothing was deleted`, { cause });
  }
  const o = body as { kind?: unknown; dryRun?: unknown; preconditions?: { resourceVersion?: unknown } } | null;
  if (!o || typeof o !== 'object' || (o.kind !== undefined && o.kind !== 'DeleteOptions')) throw new BadRequestError('a DELETE body must be a DeleteOptions object; nothing was deleted');
  if (o.dryRun !== undefined && (!Array.isArray(o.dryRun) || o.dryRun.some((v) => typeof v !== 'string'))) throw new BadRequestError('DeleteOptions.dryRun must be a list such as ["All"]; nothing was deleted');
  const rv = o.preconditions?.resourceVersion;
  if (rv !== undefined && typeof rv !== 'string') throw new BadRequestError('DeleteOptions.preconditions.resourceVersion must be a string; nothing was deleted');
  return { ...(o.dryRun ? { dryRun: o.dryRun as string[] } : {}), ...(rv ? { preconditions: { resourceVersion: rv } } : {}) };
}

/** A dry-run Token create answers without the secret: it was made for a token that does not exist. */
function withoutSecret<T extends ResourceObject>(obj: T): T {
  if (obj.kind !== 'Token' || !obj.status) return obj;
  const { token: _secret, ...status } = obj.status as { token?: string };
  return { ...obj, status };
}

export function createApi(opts: ApiOptions): Hono<Env> {
  const { store, presence } = opts;
  const clock = opts.clock ?? systemClock;
  const service = new ResourceService(store, clock);
  const app = new Hono<Env>();
  const tokenLookup = { token: (id: string) => store.get('Token', '', id), credential: (id: string) => store.credential(id) };

  app.onError((err, c) => {
    const body = errorStatus(err);
    if (!(err instanceof HubError)) opts.log?.warn({ err }, 'admin API request failed');
    return c.json(body, body.code as 400);
  });
  app.notFound((c) => c.json(errorStatus(new HubError(404, 'NotFound', `no such path ${c.req.path}; see /openapi/v3`)), 404));
  // Before the body limit: blobs stream to and from disk, whatever their size (blob-routes.ts).
  if (opts.blobs) app.route('/', blobRoutes({ ...opts.blobs, store, clock }));
  app.use('*', bodyLimit({ maxSize: 3 * 1024 * 1024, onError: () => { throw new BadRequestError('request body is larger than 3 MiB'); } }));

  // As kube-apiserver's: "ok" or 503 with what is wrong; ?verbose lists every component ([+] or [-]).
  app.get('/healthz', (c) => {
    const parts = opts.health?.() ?? [];
    const ok = parts.every((p) => p.ok);
    if (c.req.query('verbose') === undefined) return ok ? c.text('ok') : c.text(`unhealthy: ${parts.filter((p) => !p.ok).map((p) => `${p.name} (${p.message ?? 'not ok'})`).join(', ')}`, 503);
    const lines = parts.map((p) => `[${p.ok ? '+' : '-'}]${p.name} ${p.ok ? 'ok' : 'failed'}${p.message ? `: ${p.message}` : ''}`);
    return c.text(`${lines.join('\n')}\nhealthz check ${ok ? 'passed' : 'failed'}\n`, ok ? 200 : 503);
  });
  // Also in kube-apiserver's version.Info shape, so `kubectl version` reads the hub's version; protocol: the
  // agent wire protocol this hub speaks, so `outpost version` can show it beside the hub's.
  const [major = '', minor = ''] = opts.version.split('.');
  app.get('/version', (c) =>
    c.json({ version: opts.version, revision: store.revision(), protocol: `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`, major, minor, gitVersion: `v${opts.version}`, platform: `${process.platform}/${process.arch}` }),
  );
  app.get(CA_PATH, (c) => c.body(opts.caCertPem, 200, { 'content-type': 'application/x-pem-file' }));
  const joins = new JoinThrottle({ maxFailuresPerMinute: opts.maxFailedJoinsPerMinute ?? 10 }, opts.log ?? { warn: () => undefined });
  app.post(JOIN_PATH, async (c) => {
    const body = (await jsonBody(c)) as { token?: unknown; version?: unknown };
    if (typeof body?.token !== 'string') throw new BadRequestError('join needs {"token": "<bootstrap token>"}');
    const from = clientAddress(c);
    const wait = joins.retryAfterSeconds(from);
    if (wait !== undefined) {
      const message = `too many failed joins from ${from}; try again in ${wait} s, with a token from \`outpost token create\` (copy it whole)`;
      return c.json(statusBody(429, 'TooManyRequests', message, { retryAfterSeconds: wait }), 429, { 'retry-after': String(wait) });
    }
    try {
      return c.json(redeemBootstrapToken(store, body.token, typeof body.version === 'string' ? body.version : 'unknown', clock));
    } catch (err) {
      if (!(err instanceof JoinError)) throw err;
      joins.failed(from, err.code);
      // The code (TOKEN_USED, TOKEN_EXPIRED, ...) lets the agent say exactly why it cannot join.
      return c.json(statusBody(err.status, err.reason, err.message, { code: err.code }), err.status as 401);
    }
  });

  app.route('/', discoveryRoutes(opts.version));

  app.use(`${API_PREFIX}/*`, async (c, next) => {
    c.set('principal', authenticate(tokenLookup, c.req.header('authorization'), clock.now().getTime()));
    await next();
  });
  app.use(`${API_PREFIX}/*`, prettyJson);
  if (opts.clusterPki) app.route('/', clusterKubeconfigRoutes(opts.clusterPki));

  app.all(`${API_PREFIX}/*`, async (c) => {
    const path = parseResourcePath(c.req.path.slice(API_PREFIX.length));
    const p = c.get('principal');
    const method = c.req.method;
    const status = path.subresource === 'status';
    // Every query parameter is one the verb takes (query-parameters.ts), before anything is read or written.
    const op = operationOf(method, !!path.name, c.req.query('watch'));
    if (op) checkQuery(c.req.queries(), op);
    const dryRun = parseDryRun(c.req.queries('dryRun'));
    const table = method === 'GET' ? tableRequest(c.req.header('accept'), c.req.query('includeObject')) : undefined;
    // A dry run runs the write whole (shape, admission, authorization, the store's own checks) and rolls it back.
    const write = <T extends ResourceObject>(fn: () => T, rehearse = dryRun): T => (rehearse ? withoutSecret(store.dryRun(fn)) : fn());
    if (method === 'GET' && !path.name) {
      if (op === 'watch') {
        // A watch outlives its request: the token it was opened with is checked again while it runs.
        const authorization = c.req.header('authorization');
        const recheck = (): void => void authenticate(tokenLookup, authorization, clock.now().getTime());
        const present = table ? tableWatchObjects(path.kind.kind, table, () => clock.now().getTime()) : undefined;
        return watchResponse(c, store, presence, p, path, { ...opts.watchLimits, bookmarkEveryMs: opts.watchBookmarkEveryMs ?? 60_000, recheck, present });
      }
      const list = service.list(p, path, listRequest((name) => c.req.query(name)));
      if (!table) return c.json(list);
      // A Table carries the list's continue and remainingItemCount too: kubectl get pages through Tables.
      const t = toTable(path.kind.kind, list.items, list.metadata.resourceVersion, table, { now: clock.now().getTime() });
      return c.json({ ...t, metadata: { ...t.metadata, ...list.metadata } });
    }
    // Who writes (managedFields) and how unknown fields are met; Warn's warnings go out as Warning headers.
    const w = writeOptions(c, p.name);
    const warned = <T>(value: T): T => {
      for (const text of w.warnings) c.header('Warning', warningHeader(text), { append: true });
      return value;
    };
    if (method === 'POST' && !path.name) {
      requireJsonMedia(c.req.header('content-type'));
      const body = await jsonBody(c);
      const around = await aroundClusterCreate(opts.clusterPki, p, path, false);
      return c.json(warned(write(() => around(() => service.create(p, path, body, w)))), 201);
    }
    if (!path.name) throw new HubError(405, 'MethodNotAllowed', `${method} is not allowed on a collection; use GET or POST`);
    let result: ResourceObject;
    switch (method) {
      case 'GET':
        checkGetRevision(c.req.query('resourceVersion'), store.revision());
        result = service.get(p, path);
        if (table) return c.json(toTable(path.kind.kind, [result], result.metadata.resourceVersion ?? undefined, table, { now: clock.now().getTime() }));
        break;
      case 'PUT': {
        requireJsonMedia(c.req.header('content-type'));
        const body = await jsonBody(c);
        result = warned(write(() => (status ? service.replaceStatus(p, path, body, w) : service.replace(p, path, body, w))));
        break;
      }
      case 'PATCH': {
        const type = patchType(c.req.header('content-type'));
        const force = parseForce(c, type);
        if (type === 'apply') {
          if (c.req.query('fieldManager') === undefined) throw new BadRequestError('server-side apply needs ?fieldManager=NAME, the manager that owns what it applies (kubectl apply --server-side sends it); nothing was written');
          const body = applyBody(await c.req.text());
          // 201 when the apply made the object, as kube-apiserver answers.
          const existed = store.get(path.kind.kind, path.namespace ?? '', path.name) !== undefined;
          const around = await aroundClusterCreate(opts.clusterPki, p, path, existed || status);
          const applied = warned(write(() => around(() => (status ? service.applyStatus(p, path, body, force, w) : service.apply(p, path, body, force, w)))));
          return c.json(applied, existed ? 200 : 201);
        } else if (type === 'json') {
          const body = await jsonBody(c);
          result = warned(write(() => (status ? service.jsonPatchStatus(p, path, body, w) : service.jsonPatch(p, path, body, w))));
        } else {
          const body = await jsonBody(c);
          result = warned(write(() => (status ? service.patchStatus(p, path, body, w) : service.patch(p, path, body, w))));
        }
        break;
      }
      case 'DELETE': {
        if (status) throw new HubError(405, 'MethodNotAllowed', 'DELETE is not allowed on /status');
        const options = await deleteOptions(c);
        result = write(() => service.delete(p, path, options.preconditions?.resourceVersion ?? c.req.query('resourceVersion')), dryRun || parseDryRun(options.dryRun));
        break;
      }
      default:
        throw new HubError(405, 'MethodNotAllowed', `${method} is not allowed here`);
    }
    return c.json(result);
  });
  return app;
}
