// Where the cache downloads from: the hub's blob endpoint over HTTPS, trusting only the pinned CA, with
// the agent's own credential (the hub serves an agent only what a Release lists). Narrow, so the cache's
// logic is tested against a real hub in test/integration/artifacts.test.ts and nothing else.
import { request } from 'node:https';
import type { Readable } from 'node:stream';
import { BLOB_PATH, readStatus } from '@outpost/proto';
import { ArtifactFetchError } from './errors.js';

export interface BlobBody {
  /** Where the body starts in the blob: 0 for a whole answer, the Range's start for a 206. */
  start: number;
  body: Readable;
}

export interface BlobSource {
  /** A description for messages, such as the hub's URL. */
  readonly name: string;
  /** The blob from byte `from` (a Range when from > 0; the source may answer whole, start 0). */
  open(digest: string, from: number, signal?: AbortSignal): Promise<BlobBody>;
}

export interface HubBlobSourceOptions {
  hub: string;
  credential: string;
  caCertPem: string;
  /** No byte for this long fails the download (it resumes at the next ask). Default 60 s. */
  idleTimeoutMs?: number;
}

export class HubBlobSource implements BlobSource {
  readonly name: string;

  constructor(private readonly o: HubBlobSourceOptions) {
    this.name = o.hub;
  }

  open(digest: string, from: number, signal?: AbortSignal): Promise<BlobBody> {
    const url = new URL(`${BLOB_PATH}/${digest}`, this.o.hub);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'GET',
        ca: this.o.caCertPem,
        headers: { authorization: `Bearer ${this.o.credential}`, ...(from > 0 ? { range: `bytes=${from}-` } : {}) },
        ...(signal ? { signal } : {}),
      }, (res) => {
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve({ start: 0, body: res });
        if (status === 206) {
          const m = /^bytes (\d+)-\d+\/\d+$/.exec(res.headers['content-range'] ?? '');
          if (!m) {
            res.destroy();
            return reject(new ArtifactFetchError(digest, `${this.name} answered 206 without a Content-Range`));
          }
          return resolve({ start: Number(m[1]), body: res });
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const s = readStatus(Buffer.concat(chunks).toString('utf8'));
          const why = status === 404 ? 'no Release in this agent\'s view lists it, or the hub does not hold it' : status === 401 || status === 403 ? 'the hub refused this agent\'s credential' : `the hub answered ${status}`;
          reject(new ArtifactFetchError(digest, `${why}${s?.message ? ` (${s.message})` : ''}`));
        });
      });
      req.setTimeout(this.o.idleTimeoutMs ?? 60_000, () => req.destroy(new Error(`no bytes from ${this.name} for ${(this.o.idleTimeoutMs ?? 60_000) / 1000} s`)));
      req.on('error', (err) => reject(new ArtifactFetchError(digest, `cannot download from ${this.name}: ${err.message}`, { cause: err })));
      req.end();
    });
  }
}
