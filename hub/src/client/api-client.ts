// A small client of the admin API over HTTPS, trusting only the hub's CA. Used by the CLI and tests.
import { request, type Agent } from 'node:https';
import { findKind, readStatus, type KindInfo, type ResourceObject } from '@outpost/proto';
import { API_PREFIX } from '../api/resource-path.js';

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

export interface ListResponse<T = ResourceObject> {
  items: T[];
  metadata: { resourceVersion: string };
}

export interface WriteOptions {
  /** The hub runs every check of the write and answers as if it had made it, writing nothing (dryRun=All). */
  dryRun?: boolean;
}

function withDryRun(path: string, opts: WriteOptions): string {
  return opts.dryRun ? `${path}?dryRun=All` : path;
}

export function resourcePath(kind: KindInfo, namespace?: string, name?: string): string {
  const base = kind.namespaced && namespace ? `${API_PREFIX}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}` : `${API_PREFIX}/${kind.plural}`;
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.opts.hub);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: this.opts.caCertPem,
          headers: {
            authorization: `Bearer ${this.opts.token}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
          timeout: this.opts.timeoutMs ?? 30_000,
          ...(this.opts.httpsAgent ? { agent: this.opts.httpsAgent } : {}),
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
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.opts.hub} within ${this.opts.timeoutMs ?? 30_000} ms`)));
      req.on('error', (err) => reject(new ApiError(0, 'Unreachable', `cannot reach the hub at ${this.opts.hub}: ${err.message}`, [], { cause: err })));
      req.end(payload);
    });
  }

  kind(name: string): KindInfo {
    const k = findKind(name);
    if (!k) throw new ApiError(0, 'BadRequest', `unknown kind "${name}"`);
    return k;
  }

  list<T = ResourceObject>(kind: KindInfo, namespace?: string): Promise<ListResponse<T>> {
    return this.call('GET', resourcePath(kind, namespace));
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
