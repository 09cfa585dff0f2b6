// The hub's content-addressed store: every artifact by its sha256, in <data dir>/blobs/sha256/<hex>. A
// blob is written to blobs/tmp/, hashed as it streams, synced, and only then renamed into place, so a
// blob that is there is whole and is what its name says (a crash leaves at most a temp file, removed at
// the next start). Files 0600, directories 0700: the hub user's alone, like hub.db beside it. What no
// Release lists is removed by blob-gc.ts; a blob being read is held (hold()) so that it never goes under
// its reader.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, utimesSync, type ReadStream } from 'node:fs';
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

/** A blob the store holds, as the garbage collector sees it. */
export interface StoredBlob {
  digest: string;
  size: number;
  /** Its file's mtime: when it was written, or last asked for by an uploader (touch()). */
  mtimeMs: number;
}

export class BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;
  /** Digests being read now (a GET being served, a bundle being written), with how many readers each. */
  private readonly readers = new Map<string, number>();

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

  /**
   * The blob's bytes, whole or the inclusive `range` of them. The caller checks has() and the range first.
   * The file is opened now, in the caller's tick, and held until the stream closes: the garbage collector
   * cannot remove it between the check and the first read, nor while it is read.
   */
  open(digest: string, range?: ByteSpan): ReadStream {
    const fd = openSync(this.path(digest), 'r');
    const release = this.hold([digest]);
    // Large reads: fewer chunks through the web-stream and TLS layers (64 KiB by default).
    const stream = createReadStream('', { fd, highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
    stream.once('close', release);
    return stream;
  }

  /**
   * Keeps `digests` from the garbage collector until the returned function is called (idempotent): for a
   * reader that opens them later, as a bundle being written does.
   */
  hold(digests: readonly string[]): () => void {
    for (const d of digests) this.readers.set(d, (this.readers.get(d) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const d of digests) {
        const n = (this.readers.get(d) ?? 1) - 1;
        if (n > 0) this.readers.set(d, n);
        else this.readers.delete(d);
      }
    };
  }

  /** Whether a reader holds the blob now. */
  held(digest: string): boolean {
    return this.readers.has(digest);
  }

  /**
   * Marks the blob as just asked for by an uploader (its mtime now), so it has the whole grace period
   * again before the garbage collector may take it: `outpost release import` skips sending a blob the
   * hub holds and creates its Release after.
   */
  touch(digest: string): void {
    const now = new Date();
    try {
      utimesSync(this.path(digest), now, now);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Every blob the store holds (not uploads in progress: those are in tmp/ until whole). */
  list(): StoredBlob[] {
    const out: StoredBlob[] = [];
    for (const hex of readdirSync(this.blobs)) {
      const digest = `sha256:${hex}`;
      if (!digestHex(digest)) continue;
      try {
        const st = statSync(join(this.blobs, hex));
        out.push({ digest, size: st.size, mtimeMs: st.mtimeMs });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out;
  }

  /** Deletes the blob's file (blob-gc.ts decides which); a reader that has it open reads on. */
  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }
}

/** A Readable of a web request body, or an empty one when there is none. */
export function bodyStream(body: ReadableStream<Uint8Array> | null): Readable {
  return body ? Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
}
