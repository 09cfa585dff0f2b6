// The hub's content-addressed store: every artifact by its sha256, in <data dir>/blobs/sha256/<hex>. A
// blob is written to blobs/tmp/, hashed as it streams, synced, and only then renamed into place, so a
// blob that is there is whole and is what its name says (a crash leaves at most a temp file, removed at
// the next start). Files 0600, directories 0700: the hub user's alone, like hub.db beside it.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, type ReadStream } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex } from '@outpost/proto';
import { BlobTooLargeError, DigestMismatchError, SizeMismatchError } from './errors.js';

export interface PutOptions {
  /** The digest the sender says the bytes have: a mismatch keeps nothing. */
  expectedDigest?: string;
  /** The size the sender announced: a shorter or longer body keeps nothing. */
  expectedSize?: number;
  /** Bytes past this fail the write with BlobTooLargeError and keep nothing. */
  maxBytes?: number;
}

/** An inclusive byte range, as an HTTP Range names it. */
export interface ByteSpan {
  start: number;
  end: number;
}

export class BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;

  /** `root` is <hub data dir>/blobs. */
  constructor(root: string) {
    this.blobs = join(root, 'sha256');
    this.tmp = join(root, 'tmp');
    for (const dir of [root, this.blobs, this.tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Left by a hub that died mid-upload: never renamed in, so never served.
    for (const f of readdirSync(this.tmp)) rmSync(join(this.tmp, f), { force: true });
  }

  /** The file a digest is kept in (whether or not it is there). Throws on a malformed digest. */
  path(digest: string): string {
    const hex = digestHex(digest);
    if (!hex) throw new TypeError(`"${digest}" is not a digest of the form sha256:<64 hex digits>`);
    return join(this.blobs, hex);
  }

  has(digest: string): boolean {
    return digestHex(digest) !== undefined && existsSync(this.path(digest));
  }

  /** The blob's size in bytes, or undefined when the store does not hold it. */
  size(digest: string): number | undefined {
    if (!this.has(digest)) return undefined;
    return statSync(this.path(digest)).size;
  }

  /** Stores a stream or a file's bytes under their digest. Nothing is kept unless every check passes. */
  async put(source: Readable | string, opts: PutOptions = {}): Promise<{ digest: string; size: number }> {
    const tmp = join(this.tmp, `${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) return done(new BlobTooLargeError(opts.maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      const input = typeof source === 'string' ? createReadStream(source) : source;
      await pipeline(input, counted, createWriteStream(tmp, { mode: 0o600 }));
      const digest = `sha256:${hash.digest('hex')}`;
      if (opts.expectedSize !== undefined && size !== opts.expectedSize) throw new SizeMismatchError(opts.expectedSize, size);
      if (opts.expectedDigest !== undefined && digest !== opts.expectedDigest) throw new DigestMismatchError(opts.expectedDigest, digest);
      // On disk before it is named: a crash after the rename must not leave a named blob of zeros.
      const fh = await open(tmp, 'r');
      await fh.sync();
      await fh.close();
      await chmod(tmp, 0o600);
      await rename(tmp, this.path(digest));
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** The blob's bytes, whole or the inclusive `range` of them. The caller checks has() and the range first. */
  open(digest: string, range?: ByteSpan): ReadStream {
    // Large reads: fewer chunks through the web-stream and TLS layers (64 KiB by default).
    return createReadStream(this.path(digest), { highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
  }
}

/** A Readable of a web request body, or an empty one when there is none. */
export function bodyStream(body: ReadableStream<Uint8Array> | null): Readable {
  return body ? Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
}
