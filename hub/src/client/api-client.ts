// A small client of the admin API over HTTPS, trusting only the hub's CA. Used by the CLI and tests.
import { request, type Agent } from 'node:https';
import { findKind, readStatus, type KindInfo, type ResourceObject } from '@outpost/proto';
import { API_PREFIX } from '../api/resource-path.js';
import { HUB_VERSION } from '../version.js';

/** As kubectl's: the hub records a write's field manager from the part before the slash ("outpost"). */
const USER_AGENT = `outpost/${HUB_VERSION} (${process.platform}/${process.arch})`;

export interface ApiClientOptions {
  hub: string;
  token: string;
  caCertPem: string;
  timeoutMs?: number;
  /** Reuse connections (keep-alive) across calls; default: a new TLS connection per call. */
  httpsAgent?: Agent;
}

/** An error answer of the API (a Kubernetes Status), or a failure to reach it. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The request failed on a reused keep-alive connection the hub had closed: it reached no handler. */
  staleConnection = false;
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: ReadonlyArray<{ field: string; message: string }> = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Methods whose repetition leaves the hub as one call would (a merge or apply patch sets, it does not add). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface ListResponse<T = ResourceObject> {
  items: T[];
  metadata: { resourceVersion: string };
}

export interface WriteOptions {
  /** The hub runs every check of the write and answers as if it had made it, writing nothing (dryRun=All). */
  dryRun?: boolean;
}

/**
 * The query parameters the hub understands, and so the only ones this client sends (the hub answers 400
 * to any other): a typo here is a compile error, not a request the hub refuses.
 */
export type QueryParam = 'labelSelector' | 'fieldSelector' | 'watch' | 'resourceVersion' | 'dryRun' | 'limit' | 'continue' | 'fieldManager';
export type Query = Partial<Record<QueryParam, string>>;

/** `path?query`, leaving out parameters that are unset or empty. */
export function withQuery(path: string, query: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

function withDryRun(path: string, opts: WriteOptions): string {
  return withQuery(path, { dryRun: opts.dryRun ? 'All' : undefined });
}

export interface ListOptions {
  /** Kubernetes label selector, such as `env=prod,tier!=db`. */
  labelSelector?: string;
  /** Kubernetes field selector, such as `metadata.name=pos`. */
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Events after this revision (a list's metadata.resourceVersion); default: from now. */
  resourceVersion?: string;
  /** Ends the watch. */
  signal?: AbortSignal;
}

/** One line of a watch: Kubernetes' watch event. */
export interface WatchEvent<T = ResourceObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The hub's /version answer. */
export interface HubVersion {
  version: string;
  revision: number;
  /** The wire protocol the hub speaks (MAJOR.MINOR), from hubs that say it. */
  protocol?: string;
}

export function resourcePath(kind: KindInfo, namespace?: string, name?: string): string {
  const base = kind.namespaced && namespace ? `${API_PREFIX}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${API_PREFIX}/${kind.plural}`;
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    try {
      return await this.send<T>(method, path, payload, contentType);
    } catch (err) {
      // A kept-alive connection the hub closed (idle, or to make room under a connection flood) just as
      // this request went out on it: the request never reached a handler, so one that is safe to repeat is
      // sent again on a fresh connection, as Node's docs advise. A create (POST) is not repeated.
      if (!(err instanceof ApiError && err.staleConnection && IDEMPOTENT.has(method))) throw err;
      // Outside the pool: its other idle sockets may be just as stale (requests at once left several).
      return this.send<T>(method, path, payload, contentType, true);
    }
  }

  private send<T>(method: string, path: string, payload: Buffer | undefined, contentType: string, fresh = false): Promise<T> {
    const url = new URL(path, this.opts.hub);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.opts.caCertPem,
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            accept: 'application/json',
            'user-agent': USER_AGENT,
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
          timeout: this.opts.timeoutMs ?? 30_000,
          ...(fresh ? { agent: false } : this.opts.httpsAgent ? { agent: this.opts.httpsAgent } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const s = readStatus(text);
            reject(new ApiError(status, s?.reason ?? 'Unknown', s?.message ?? `hub answered ${status}: ${text.slice(0, 200)}`, s?.details?.causes ?? []));
          });
        },
      );
      // Nagle off: a write's headers and body can leave in two TLS records, and the second then waits for the
      // hub's delayed ACK on a kept-alive connection (12-20 ms per request at p50 against bench:scale's bare server).
      req.setNoDelay(true);
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.opts.hub} within ${this.opts.timeoutMs ?? 30_000} ms`)));
      req.on('error', (err) => {
        const failure = new ApiError(0, 'Unreachable', `cannot reach the hub at ${this.opts.hub}: ${err.message}`, [], { cause: err });
        failure.staleConnection = req.reusedSocket && STALE_CONNECTION_CODES.has((err as NodeJS.ErrnoException).code ?? '');
        reject(failure);
      });
      req.end(payload);
    });
  }

  kind(name: string): KindInfo {
    const k = findKind(name);
    if (!k) throw new ApiError(0, 'BadRequest', `unknown kind "${name}"`);
    return k;
  }

  list<T = ResourceObject>(kind: KindInfo, namespace?: string, opts: ListOptions = {}): Promise<ListResponse<T>> {
    return this.call('GET', withQuery(resourcePath(kind, namespace), { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }));
  }

  version(): Promise<HubVersion> {
    return this.call('GET', '/version');
  }

  /**
   * Watches a kind: calls `onEvent` for each event as it arrives, and resolves when the hub ends the
   * stream or `signal` aborts (then without error). An error answer before the stream rejects as call() does.
   */
  watch<T = ResourceObject>(kind: KindInfo, namespace: string | undefined, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void): Promise<void> {
    const path = withQuery(resourcePath(kind, namespace), { watch: 'true', labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: opts.resourceVersion });
    const url = new URL(path, this.opts.hub);
    return new Promise<void>((resolve, reject) => {
      if (opts.signal?.aborted) return resolve();
      const req = request(url, {
        method: 'GET',
        ca: this.opts.caCertPem,
        headers: { authorization: `Bearer ${this.opts.token}`, accept: 'application/json', 'user-agent': USER_AGENT },
        ...(this.opts.httpsAgent ? { agent: this.opts.httpsAgent } : {}),
      });
      const stop = (): void => {
        req.destroy();
        resolve();
      };
      opts.signal?.addEventListener('abort', stop, { once: true });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const s = readStatus(text);
            reject(new ApiError(status, s?.reason ?? 'Unknown', s?.message ?? `hub answered ${status}: ${text.slice(0, 200)}`, s?.details?.causes ?? []));
          });
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (err) {
              req.destroy();
              reject(err instanceof SyntaxError ? new ApiError(0, 'BadResponse', `the hub sent a watch line that is not JSON: ${line.slice(0, 200)}`, [], { cause: err }) : err);
              return;
            }
          }
        });
        res.on('end', () => {
          opts.signal?.removeEventListener('abort', stop);
          resolve();
        });
      });
      req.on('error', (err) => {
        if (opts.signal?.aborted) return resolve();
        reject(new ApiError(0, 'Unreachable', `cannot reach the hub at ${this.opts.hub}: ${err.message}`, [], { cause: err }));
      });
      req.end();
    });
  }

  get<T = ResourceObject>(kind: KindInfo, name: string, namespace?: string): Promise<T> {
    return this.call('GET', resourcePath(kind, namespace, name));
  }

  create<T = ResourceObject>(obj: ResourceObject, opts: WriteOptions = {}): Promise<T> {
    const k = this.kind(obj.kind);
    return this.call('POST', withDryRun(resourcePath(k, obj.metadata.namespace ?? undefined), opts), obj);
  }

  replace<T = ResourceObject>(obj: ResourceObject, opts: WriteOptions = {}): Promise<T> {
    const k = this.kind(obj.kind);
    return this.call('PUT', withDryRun(resourcePath(k, obj.metadata.namespace ?? undefined, obj.metadata.name ?? ''), opts), obj);
  }

  patch<T = ResourceObject>(kind: KindInfo, name: string, patch: unknown, namespace?: string): Promise<T> {
    return this.call('PATCH', resourcePath(kind, namespace, name), patch, 'application/merge-patch+json');
  }

  delete<T = ResourceObject>(kind: KindInfo, name: string, namespace?: string, opts: WriteOptions = {}): Promise<T> {
    return this.call('DELETE', withDryRun(resourcePath(kind, namespace, name), opts));
  }
}
