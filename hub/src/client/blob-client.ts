// The admin side of the content store: ask whether the hub holds a blob, and upload one, streamed from a
// file with its digest and size announced (the hub refuses, keeping nothing, when either is not so).
import { createReadStream } from 'node:fs';
import { request } from 'node:https';
import { BLOB_PATH, readStatus } from '@outpost/proto';
import { ApiError, type ApiClientOptions } from './api-client.js';

export class BlobClient {
  constructor(private readonly opts: Pick<ApiClientOptions, 'hub' | 'token' | 'caCertPem'>) {}

  private send(method: 'HEAD' | 'PUT', digest: string, file?: { path: string; size: number; onBytes?: (n: number) => void }): Promise<{ status: number; text: string }> {
    const url = new URL(`${BLOB_PATH}/${digest}`, this.opts.hub);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        ca: this.opts.caCertPem,
        headers: { authorization: `Bearer ${this.opts.token}`, ...(file ? { 'content-type': 'application/octet-stream', 'content-length': file.size } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`no progress with ${this.opts.hub} for 60 s`)));
      req.on('error', (err) => reject(new ApiError(0, 'Unreachable', `cannot reach the hub at ${this.opts.hub}: ${err.message}`, [], { cause: err })));
      if (!file) return void req.end();
      const source = createReadStream(file.path);
      source.on('data', (c) => file.onBytes?.(c.length));
      source.on('error', (err) => req.destroy(err));
      source.pipe(req);
    });
  }

  private failed(r: { status: number; text: string }, what: string): ApiError {
    const s = readStatus(r.text);
    return new ApiError(r.status, s?.reason ?? 'Unknown', s?.message ?? `${what}: the hub answered ${r.status}`, s?.details?.causes ?? []);
  }

  /** Whether the hub's store holds `digest`. */
  async has(digest: string): Promise<boolean> {
    const r = await this.send('HEAD', digest);
    if (r.status === 200) return true;
    if (r.status === 404) return false;
    throw this.failed(r, `asking for blob ${digest}`);
  }

  /** Uploads `path` as `digest`; `onBytes` hears of each chunk sent. */
  async put(digest: string, path: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    const r = await this.send('PUT', digest, { path, size, ...(onBytes ? { onBytes } : {}) });
    if (r.status !== 200 && r.status !== 201) throw this.failed(r, `uploading ${path}`);
  }
}
