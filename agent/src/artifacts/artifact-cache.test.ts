// The cache's logic against an in-process source (the real hub is in test/integration/artifacts.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from './artifact-cache.js';
import type { BlobSource } from './blob-source.js';
import { ArtifactDigestMismatch } from './errors.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'artifact-cache-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Serves `blobs` by digest, honouring `from` as a Range would, and counts requests. */
function source(blobs: Map<string, Buffer>): BlobSource & { opened: Array<{ digest: string; from: number }> } {
  const opened: Array<{ digest: string; from: number }> = [];
  return {
    name: 'test source',
    opened,
    open: async (digest, from) => {
      opened.push({ digest, from });
      await new Promise((r) => setTimeout(r, 5));
      return { start: from, body: Readable.from([blobs.get(digest)!.subarray(from)]) };
    },
  };
}

describe('ArtifactCache', () => {
  it('downloads once for asks at the same time, and not again when cached', async () => {
    const blob = randomBytes(10_000);
    const d = digestOf(blob);
    const src = source(new Map([[d, blob]]));
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1e6, source: src });
    const [a, b] = await Promise.all([cache.fetch(d, blob.length), cache.fetch(d, blob.length)]);
    expect(a).toBe(b);
    expect(readFileSync(a).equals(blob)).toBe(true);
    await cache.fetch(d, blob.length);
    expect(src.opened).toHaveLength(1);
  });

  it('resumes from a partial download, asking only for the rest', async () => {
    const blob = randomBytes(10_000);
    const d = digestOf(blob);
    const src = source(new Map([[d, blob]]));
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1e6, source: src });
    writeFileSync(cache.partialPath(d), blob.subarray(0, 4000));
    expect(readFileSync(await cache.fetch(d, blob.length)).equals(blob)).toBe(true);
    expect(src.opened).toEqual([{ digest: d, from: 4000 }]);
  });

  it('leaves a partial another live process is writing alone, and takes over one whose process is gone', async () => {
    const blob = randomBytes(1000);
    const d = digestOf(blob);
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1e6, source: source(new Map([[d, blob]])) });
    const lock = cache.partialPath(d).replace(/\.partial$/, '.lock');
    writeFileSync(lock, String(process.ppid));
    await expect(cache.fetch(d, blob.length)).rejects.toThrow(`process ${process.ppid} is downloading it`);
    // No such process (pid_max is below 2^22): a download killed with -9 left it.
    writeFileSync(lock, String(2 ** 22 + 1));
    expect(readFileSync(await cache.fetch(d, blob.length)).equals(blob)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('deletes a partial whose bytes are not the digest, and says so', async () => {
    const blob = randomBytes(10_000);
    const d = digestOf(blob);
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1e6, source: source(new Map([[d, blob]])) });
    // A partial left by a download from a damaged copy.
    writeFileSync(cache.partialPath(d), randomBytes(4000));
    await expect(cache.fetch(d, blob.length)).rejects.toBeInstanceOf(ArtifactDigestMismatch);
    expect(existsSync(cache.partialPath(d))).toBe(false);
    expect(cache.has(d)).toBe(false);
    // The next ask starts clean and succeeds.
    expect(cache.has(digestOf(readFileSync(await cache.fetch(d, blob.length))))).toBe(true);
  });

  it('adopts a verified file (a bundle fills the cache so) and refuses one whose bytes differ', async () => {
    const dir = tmp();
    const cache = new ArtifactCache({ dataDir: dir, maxBytes: 1e6 });
    const blob = randomBytes(1000);
    writeFileSync(join(dir, 'from-bundle'), blob);
    await expect(cache.adopt(digestOf(randomBytes(10)), join(dir, 'from-bundle'))).rejects.toBeInstanceOf(ArtifactDigestMismatch);
    const path = await cache.adopt(digestOf(blob), join(dir, 'from-bundle'));
    expect(readFileSync(path).equals(blob)).toBe(true);
    expect(existsSync(join(dir, 'from-bundle'))).toBe(false);
    // Offline, what is not cached cannot be had, and the message says how to bring it.
    await expect(cache.fetch(digestOf(randomBytes(10)), 10)).rejects.toThrow(/import a bundle/);
  });

  it('keeps under its limit, evicting what no current Cluster uses first', async () => {
    const blobs = [randomBytes(400), randomBytes(400), randomBytes(400)];
    const [used, unused, incoming] = blobs.map(digestOf) as [string, string, string];
    const src = source(new Map(blobs.map((b) => [digestOf(b), b])));
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1000, source: src, inUse: () => new Set([used]) });
    await cache.fetch(used, 400);
    await cache.fetch(unused, 400);
    // The one in use is the older: still the unused one goes.
    utimesSync(cache.path(used), new Date(0), new Date(0));
    await cache.fetch(incoming, 400);
    expect([cache.has(used), cache.has(unused), cache.has(incoming)]).toEqual([true, false, true]);
    expect(cache.usedBytes()).toBe(800);
    await expect(cache.fetch(digestOf(randomBytes(2000)), 2000)).rejects.toThrow(/raise --artifact-cache-size/);
  });

  it("removes a staging directory a gone process left, never a live one's", () => {
    const dir = tmp();
    const cache = new ArtifactCache({ dataDir: dir, maxBytes: 1000 });
    const tmpDir = join(dir, 'artifacts', 'tmp');
    // pid 2^22 + 1 is past Linux's pid_max: no process has it.
    mkdirSync(join(tmpDir, 'staging-4194305-left'));
    mkdirSync(join(tmpDir, `staging-${process.ppid}-live`));
    writeFileSync(join(tmpDir, 'abc.partial'), 'a download');
    const mine = cache.stagingDir();
    expect(readdirSync(tmpDir).sort()).toEqual(['abc.partial', mine.slice(tmpDir.length + 1), `staging-${process.ppid}-live`].sort());
  });

  it('adopts a set whole: it must fit at once, and no member is evicted for another', async () => {
    const dir = tmp();
    const cache = new ArtifactCache({ dataDir: dir, maxBytes: 1000 });
    const stage = (b: Buffer): { digest: string; file: string } => {
      const staging = cache.stagingDir();
      writeFileSync(join(staging, 'blob'), b);
      return { digest: digestOf(b), file: join(staging, 'blob') };
    };
    const old = randomBytes(400);
    await cache.adopt(digestOf(old), stage(old).file);
    // 1200 bytes the cache lacks: refused before any is taken.
    const big = [randomBytes(600), randomBytes(600)].map(stage);
    await expect(cache.adoptAll(big)).rejects.toThrow(/the 2 artifacts to cache need 1200 bytes .*raise --artifact-cache-size/);
    expect(big.map((b) => cache.has(b.digest))).toEqual([false, false]);
    expect(cache.has(digestOf(old))).toBe(true);
    // Two of 400: the old one goes for the second, never the first of the set, though that one is the
    // least recently used (a file keeps its mtime through the rename).
    const set = [randomBytes(400), randomBytes(400)].map(stage);
    utimesSync(set[0]!.file, new Date(0), new Date(0));
    await cache.adoptAll(set);
    expect([cache.has(digestOf(old)), ...set.map((b) => cache.has(b.digest))]).toEqual([false, true, true]);
    expect(cache.usedBytes()).toBe(800);
  });
});

describe('ArtifactCache cancellation', () => {
  it("an asker's abort ends its wait, not the download another asker shares", async () => {
    const blob = randomBytes(10_000);
    const d = digestOf(blob);
    const cache = new ArtifactCache({ dataDir: tmp(), maxBytes: 1e6, source: source(new Map([[d, blob]])) });
    const gaveUp = new AbortController();
    const first = cache.fetch(d, blob.length, gaveUp.signal);
    const second = cache.fetch(d, blob.length);
    gaveUp.abort(new Error('object changed'));
    await expect(first).rejects.toThrow('object changed');
    expect(readFileSync(await second).equals(blob)).toBe(true);
  });
});
