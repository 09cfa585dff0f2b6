// The content store over HTTPS: `PUT /artifacts/v1/blobs/sha256:HEX` (admins: `outpost release import`),
// `HEAD` and `GET` with Range (admins; and agents, for the blobs some Release lists: every agent's view
// holds every Release). Anyone else is refused; to an agent, a blob no Release lists is 404 whether the
// hub holds it or not, so what the store holds does not leak. Mount before the API's body limit: a blob
// is streamed to disk, never held in memory. `POST /artifacts/v1/gc` (admins) runs the garbage collector
// (artifacts/blob-gc.ts) now, or with ?dryRun=true says what it would remove.
import type { ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { BLOB_GC_PATH, BLOB_PATH, digestHex, type Agent, type Release, type Token } from '@outpost/proto';
import { Hono, type Context } from 'hono';
import { authenticateAgent } from '../auth/agent-identity.js';
import { authenticate } from '../auth/principal.js';
import { splitToken } from '../auth/secrets.js';
import { bodyStream, BlobTooLargeError, type BlobGc, DigestMismatchError, parseRange, SizeMismatchError, type BlobStore } from '../artifacts/index.js';
import type { Clock } from '../clock.js';
import { BadRequestError, ForbiddenError, HubError, UnauthorizedError } from '../errors.js';
import type { Store } from '../store/store.js';

export interface BlobRoutesOptions {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  /** An upload past this many bytes is refused (413) and nothing is kept. */
  maxUploadBytes: number;
  /** Each read is logged (who, digest, range, bytes): the access log a resumed download shows in. */
  log?: { info(o: object, m: string): void };
  /** The content store's garbage collector; without it POST /artifacts/v1/gc is 404. */
  gc?: BlobGc;
}

/** Who reads: an admin, or an agent (which may read only what a Release lists). */
type Reader = { admin: string } | { agent: string };

function reader(o: BlobRoutesOptions, authorization: string | undefined, what = 'read blobs'): Reader {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  const id = m ? splitToken(m[1]!)?.id : undefined;
  if (id && o.store.get<Agent>('Agent', '', id)) {
    const who = authenticateAgent(o.store, authorization);
    if ('refused' in who) throw new UnauthorizedError(who.refused);
    return { agent: id };
  }
  const lookup = { token: (t: string) => o.store.get<Token>('Token', '', t), credential: (t: string) => o.store.credential(t) };
  const p = authenticate(lookup, authorization, o.clock.now().getTime());
  if (p.role !== 'admin') throw new ForbiddenError(`token ${p.name} (role ${p.role}) may not ${what}: only admins${what === 'read blobs' ? ', and agents for the artifacts of their Releases' : ''}`);
  return { admin: p.name };
}

function listedByARelease(store: Store, digest: string): boolean {
  return store.list<Release>('Release').some((r) => (r.spec?.artifacts ?? []).some((a) => a.digest === digest));
}

function notFound(digest: string): HubError {
  return new HubError(404, 'NotFound', `blob ${digest} not found: no Release lists it, or the hub does not hold it (outpost release import DIR uploads a release's artifacts)`);
}

function digestParam(c: Context): string {
  const digest = c.req.param('digest') ?? '';
  if (!digestHex(digest)) throw new BadRequestError(`"${digest}" is not a blob digest; write it as sha256:<64 lowercase hex digits>`);
  return digest;
}

export function blobRoutes(o: BlobRoutesOptions): Hono {
  const app = new Hono();
  const path = `${BLOB_PATH}/:digest`;

  app.on(['GET', 'HEAD'], path, (c) => {
    const digest = digestParam(c);
    const who = reader(o, c.req.header('authorization'));
    if ('agent' in who && !listedByARelease(o.store, digest)) throw notFound(digest);
    const size = o.blobs.size(digest);
    if (size === undefined) throw notFound(digest);
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream', etag: `"${digest}"`, 'docker-content-digest': digest };
    const range = parseRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') {
      return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
    }
    const length = range ? range.end - range.start + 1 : size;
    const status = range ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = String(length);
    // An admin asking about a blob may be `outpost release import`, which creates its Release next:
    // the blob has the garbage collector's whole grace again (blob-gc.ts).
    if ('admin' in who) o.blobs.touch(digest);
    if (c.req.method === 'HEAD') return c.body(null, status, headers);
    o.log?.info({ ...who, digest, range: range ? `${range.start}-${range.end}` : undefined, bytes: length }, 'blob served');
    const stream = o.blobs.open(digest, range);
    return c.body(bodyOf(stream), status, headers);
  });

  app.put(path, async (c) => {
    const digest = digestParam(c);
    const who = reader(o, c.req.header('authorization'));
    if (!('admin' in who)) throw new ForbiddenError('agents may not upload blobs; an admin imports a release with `outpost release import DIR`');
    const announced = c.req.header('content-length');
    const expectedSize = announced === undefined ? undefined : Number(announced);
    if (expectedSize !== undefined && expectedSize > o.maxUploadBytes) throw new BlobTooLargeHttp(new BlobTooLargeError(o.maxUploadBytes));
    // Already held (the same bytes, by its name): nothing to read or write.
    if (o.blobs.has(digest)) {
      // Not sent again, so its Release comes next: fresh for the garbage collector's grace (blob-gc.ts).
      o.blobs.touch(digest);
      return c.json({ digest, size: o.blobs.size(digest) ?? 0, created: false });
    }
    try {
      const put = await o.blobs.put(bodyStream(c.req.raw.body), { expectedDigest: digest, maxBytes: o.maxUploadBytes, ...(expectedSize !== undefined ? { expectedSize } : {}) });
      return c.json({ ...put, created: true }, 201);
    } catch (err) {
      if (err instanceof BlobTooLargeError) throw new BlobTooLargeHttp(err);
      if (err instanceof DigestMismatchError || err instanceof SizeMismatchError) throw new BadRequestError(err.message, { cause: err });
      throw err;
    }
  });
  const gc = o.gc;
  if (gc) {
    app.post(BLOB_GC_PATH, (c) => {
      const who = reader(o, c.req.header('authorization'), 'run the blob garbage collector');
      if (!('admin' in who)) throw new ForbiddenError('agents may not run the blob garbage collector; an admin does, with `outpost artifacts gc`');
      const dry = c.req.query('dryRun');
      if (dry !== undefined && dry !== 'true' && dry !== 'false') throw new BadRequestError(`dryRun=${dry} is not true or false; nothing was removed`);
      return c.json(gc.sweep({ dryRun: dry === 'true', actor: who.admin }));
    });
  }
  app.all(path, (c) => {
    throw new HubError(405, 'MethodNotAllowed', `${c.req.method} is not allowed on a blob; GET or HEAD reads it, PUT (admins) uploads it`);
  });
  return app;
}

class BlobTooLargeHttp extends HubError {
  override readonly name = 'BlobTooLargeHttp';
  constructor(cause: BlobTooLargeError) {
    super(413, 'RequestEntityTooLarge', cause.message, [], { cause });
  }
}

/** A file stream as a web body; a client that goes away cancels it, which closes the file. */
function bodyOf(stream: ReadStream): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
}
