// The agent's artifact cache: <data dir>/artifacts/sha256/<hex>, filled by download from the hub (fetch)
// or from a bundle (adopt). Reconcilers ask by digest and get a path only to bytes whose digest was checked.
// A download goes to tmp/<hex>.partial, named by its digest so that after a crash or kill -9 the next ask
// resumes it with a Range from where it stopped (hashing what is there first); asks in flight for one
// digest share one download, and a lock file keeps a second process (`artifacts fetch`) off the partial. The cache keeps under its size limit by evicting what no current Cluster's
// Release uses first (eviction.ts). Files 0600, directories 0700.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { chmod, copyFile, open, readFile, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex, formatByteSize } from '@outpost/proto';
import { untilAborted } from '../engine/until-aborted.js';
import type { BlobSource } from './blob-source.js';
import { ArtifactDigestMismatch, ArtifactFetchError, ArtifactSetTooLarge, ArtifactTooLarge } from './errors.js';
import { chooseEvictions, type CachedEntry } from './eviction.js';
import { throttle } from './throttle.js';

/** --artifact-cache-size's default: a Release's binaries and images several times over. */
export const DEFAULT_ARTIFACT_CACHE_BYTES = 20 * 1024 ** 3;

export interface ArtifactCacheOptions {
  /** The agent's data directory; the cache is its artifacts/ folder. */
  dataDir: string;
  /** The cache's size limit in bytes (--artifact-cache-size). */
  maxBytes: number;
  /** Where to download from; without one (an offline agent) only adopted artifacts are there. */
  source?: BlobSource;
  /** The digests current Clusters' Releases use: evicted last. Default none. */
  inUse?: () => ReadonlySet<string>;
  /** Downloads go no faster than this (bytes per second; --artifact-max-rate). Default unlimited. */
  maxBytesPerSecond?: number;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/** What reconcilers see of the cache (ReconcileContext.artifacts). */
export interface Artifacts {
  /** The path of the verified artifact, downloading (or resuming) it first when it is not cached. */
  fetch(digest: string, size: number, signal?: AbortSignal): Promise<string>;
  has(digest: string): boolean;
}

/** Progress of one download, for a CLI's progress line. */
export interface FetchProgress {
  /** Bytes already on disk when this download began (a resume), and bytes of the whole. */
  resumedFrom: number;
  received: number;
  size: number;
}

export class ArtifactCache implements Artifacts {
  private readonly root: string;
  private readonly blobs: string;
  private readonly tmp: string;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly stopping = new AbortController();

  constructor(private readonly o: ArtifactCacheOptions) {
    this.root = join(o.dataDir, 'artifacts');
    this.blobs = join(this.root, 'sha256');
    this.tmp = join(this.root, 'tmp');
    for (const dir of [this.root, this.blobs, this.tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Where `digest` is kept (whether or not it is there). Throws on a malformed digest. */
  path(digest: string): string {
    return join(this.blobs, hexOf(digest));
  }

  has(digest: string): boolean {
    return digestHex(digest) !== undefined && existsSync(this.path(digest));
  }

  /** The partial download of `digest`, kept across restarts so the next fetch resumes it. */
  partialPath(digest: string): string {
    return join(this.tmp, `${hexOf(digest)}.partial`);
  }

  /** Bytes the cache holds (whole artifacts only). */
  usedBytes(): number {
    return this.entries().reduce((n, e) => n + e.size, 0);
  }

  /**
   * The verified artifact's path; downloads it when missing, once however many ask at the same time.
   * `onProgress` hears of the download this call starts (not of one it joins).
   */
  fetch(digest: string, size: number, signal?: AbortSignal, onProgress?: (p: FetchProgress) => void): Promise<string> {
    hexOf(digest);
    if (this.has(digest)) return this.touch(digest);
    let running = this.inflight.get(digest);
    if (!running) {
      // Not the asker's signal: one asker giving up (its object changed) must not cut the download the
      // others wait for. Only stop() ends downloads; each asker stops waiting on its own signal.
      running = this.download(digest, size, this.stopping.signal, onProgress).finally(() => this.inflight.delete(digest));
      this.inflight.set(digest, running);
    }
    return signal ? untilAborted(running, signal) : running;
  }

  /** Ends every download in flight (their partials stay, to be resumed). Idempotent. */
  stop(): void {
    this.stopping.abort(new Error('the agent is stopping'));
  }

  /**
   * A new directory on the cache's own file system for files about to be adopted (a bundle's blobs, written
   * as the bundle is read), so adopting one is a rename. Inside tmp/ beside the partial downloads, which it
   * never touches; the caller removes it when done. Named by the process that made it: one left by a
   * process that is gone (an import killed half way) is removed here.
   */
  stagingDir(): string {
    for (const name of readdirSync(this.tmp)) {
      const owner = /^staging-(\d+)-/.exec(name)?.[1];
      if (owner && Number(owner) !== process.pid && !alive(Number(owner))) rmSync(join(this.tmp, name), { recursive: true, force: true });
    }
    const dir = join(this.tmp, `staging-${process.pid}-${randomUUID()}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Takes `file` into the cache as `digest` (a bundle's import fills the cache so): verified first, then
   * moved (copied where it is on another filesystem, the source then left as it was). A file whose bytes
   * are not `digest` is refused with ArtifactDigestMismatch and nothing enters the cache. Room is made as
   * for a download; what `keep` names is not evicted for it.
   */
  async adopt(digest: string, file: string, keep: ReadonlySet<string> = new Set()): Promise<string> {
    hexOf(digest);
    if (this.has(digest)) return this.touch(digest);
    const actual = await hashFile(file);
    if (actual !== digest) throw new ArtifactDigestMismatch(digest, actual, file);
    const { size } = await stat(file);
    if (size > this.o.maxBytes) throw new ArtifactTooLarge(digest, size, this.o.maxBytes);
    await this.makeRoom(digest, size, keep);
    const target = this.path(digest);
    try {
      await rename(file, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const tmp = join(this.tmp, `${hexOf(digest)}.adopt`);
      await copyFile(file, tmp);
      // Copied bytes are checked again: the copy is what reconcilers will read.
      const copied = await hashFile(tmp);
      if (copied !== digest) {
        await rm(tmp, { force: true });
        throw new ArtifactDigestMismatch(digest, copied, tmp);
      }
      await syncFile(tmp);
      await rename(tmp, target);
    }
    await chmod(target, 0o600);
    return target;
  }

  /**
   * Takes a set of files in together (a bundle's blobs): the bytes the cache lacks must fit under its limit
   * all at once (ArtifactSetTooLarge before any is taken, when they cannot), and no member is evicted to
   * make room for another. Returns their paths, in order.
   */
  async adoptAll(items: ReadonlyArray<{ digest: string; file: string }>): Promise<string[]> {
    const keep = new Set(items.map((i) => i.digest));
    let incoming = 0;
    for (const i of items) if (!this.has(i.digest)) incoming += (await stat(i.file)).size;
    if (incoming > this.o.maxBytes) throw new ArtifactSetTooLarge(items.length, incoming, this.o.maxBytes);
    const paths: string[] = [];
    for (const i of items) paths.push(await this.adopt(i.digest, i.file, keep));
    return paths;
  }

  private async touch(digest: string): Promise<string> {
    const path = this.path(digest);
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return path;
  }

  private async download(digest: string, size: number, signal?: AbortSignal, onProgress?: (p: FetchProgress) => void): Promise<string> {
    const source = this.o.source;
    if (!source) throw new ArtifactFetchError(digest, 'not in the cache, and this agent has no hub to download from (offline): import a bundle that carries it');
    if (size > this.o.maxBytes) throw new ArtifactTooLarge(digest, size, this.o.maxBytes);
    await this.makeRoom(digest, size);
    const release = await this.lock(digest);
    try {
      return await this.downloadLocked(digest, size, source, signal, onProgress);
    } finally {
      await release();
    }
  }

  /**
   * One process at a time appends to a digest's partial (the agent, or an `artifacts fetch` beside it): a
   * lock file holding the owner's pid, taken over when that process is gone (killed mid-download).
   */
  private async lock(digest: string): Promise<() => Promise<void>> {
    const path = join(this.tmp, `${hexOf(digest)}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
        return () => rm(path, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(await readFile(path, 'utf8').catch(() => ''));
        if (owner && owner !== process.pid && alive(owner)) throw new ArtifactFetchError(digest, `process ${owner} is downloading it into this cache now; ask again once it is done`);
        await rm(path, { force: true });
      }
    }
    throw new ArtifactFetchError(digest, `cannot take the download lock ${path}; remove it if no agent is running`);
  }

  private async downloadLocked(digest: string, size: number, source: BlobSource, signal?: AbortSignal, onProgress?: (p: FetchProgress) => void): Promise<string> {
    const partial = this.partialPath(digest);
    const hash = createHash('sha256');
    // What an earlier, interrupted download left: hashed now, so only the rest comes over the link.
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > size) {
      await rm(partial, { force: true });
      have = 0;
    }
    if (have > 0) await pipeline(createReadStream(partial, { end: have - 1 }), new HashOnly(hash));
    // A partial that is already whole needs no request (the kill landed between the last byte and the rename).
    if (have < size) {
      const answer = await source.open(digest, have, signal);
      if (answer.start !== have) {
        // The source ignored the Range (a whole answer): start over with a fresh hash.
        if (answer.start !== 0) {
          answer.body.destroy();
          throw new ArtifactFetchError(digest, `${source.name} answered from byte ${answer.start}, not ${have}`);
        }
        hash.destroy();
        return this.restart(digest, size, answer.body, onProgress);
      }
      if (have > 0) this.o.log?.info({ digest, resumedFrom: have, size }, 'resuming artifact download');
      await this.receive(digest, answer.body, hash, have, size, onProgress);
    }
    return this.finish(digest, size, hash.digest('hex'), source.name);
  }

  /** A whole answer to a Range request: the partial is truncated and the download begins again. */
  private async restart(digest: string, size: number, body: Readable, onProgress?: (p: FetchProgress) => void): Promise<string> {
    await truncate(this.partialPath(digest), 0).catch(() => undefined);
    const hash = createHash('sha256');
    await this.receive(digest, body, hash, 0, size, onProgress);
    return this.finish(digest, size, hash.digest('hex'), this.o.source?.name ?? 'the hub');
  }

  /** Appends the body to the partial, hashing it; more bytes than `size` stop it. */
  private async receive(digest: string, body: Readable, hash: Hash, from: number, size: number, onProgress?: (p: FetchProgress) => void): Promise<void> {
    let received = from;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > size) return done(new ArtifactFetchError(digest, `the hub sent more than the ${size} bytes the Release names`));
        hash.update(chunk);
        onProgress?.({ resumedFrom: from, received, size });
        done(null, chunk);
      },
    });
    const stages = this.o.maxBytesPerSecond ? [body, throttle(this.o.maxBytesPerSecond), count] : [body, count];
    await pipeline([...stages, createWriteStream(this.partialPath(digest), { flags: from > 0 ? 'a' : 'w', mode: 0o600 })]);
    if (received !== size) throw new ArtifactFetchError(digest, `the download ended at ${received} of ${size} bytes; the next ask resumes it`);
  }

  /** Verified, synced and renamed into place; a mismatch deletes the partial so the next ask starts clean. */
  private async finish(digest: string, size: number, hex: string, from: string): Promise<string> {
    const partial = this.partialPath(digest);
    const actual = `sha256:${hex}`;
    if (actual !== digest) {
      await rm(partial, { force: true });
      this.o.log?.warn({ digest, actual, from }, 'artifact refused: its bytes are not the digest the Release names; the partial download was deleted');
      throw new ArtifactDigestMismatch(digest, actual, from);
    }
    await syncFile(partial);
    await chmod(partial, 0o600);
    await rename(partial, this.path(digest));
    this.o.log?.info({ digest, size: formatByteSize(size) }, 'artifact cached');
    return this.path(digest);
  }

  private entries(): CachedEntry[] {
    return readdirSync(this.blobs).map((hex) => {
      const st = statSync(join(this.blobs, hex));
      return { digest: `sha256:${hex}`, size: st.size, lastUsedMs: st.mtimeMs };
    });
  }

  /** Evicts so that `size` more bytes fit; never what a download in flight is writing, nor `also`. */
  private async makeRoom(digest: string, size: number, also: ReadonlySet<string> = new Set()): Promise<void> {
    const keep = new Set([digest, ...this.inflight.keys(), ...also]);
    const evict = chooseEvictions(this.entries(), this.o.inUse?.() ?? new Set(), size, this.o.maxBytes, keep);
    for (const d of evict) {
      await rm(this.path(d), { force: true });
      this.o.log?.info({ digest: d }, 'artifact evicted to keep the cache under --artifact-cache-size');
    }
  }
}


/** Whether a process of this pid runs (signal 0 tests, sends nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function hexOf(digest: string): string {
  const hex = digestHex(digest);
  if (!hex) throw new TypeError(`"${digest}" is not a digest of the form sha256:<64 hex digits>`);
  return hex;
}

/** Feeds a hash and passes nothing on. */
class HashOnly extends Transform {
  constructor(private readonly hash: Hash) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.hash.update(chunk);
    done();
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  // 1 MiB reads, not 64 KiB: a bundle's import hashes every blob again here, and fewer reads keep it near sha256sum.
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), new HashOnly(hash));
  return `sha256:${hash.digest('hex')}`;
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
