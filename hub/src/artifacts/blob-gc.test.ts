// The garbage collector's rule against a real BlobStore on disk (a real hub, the CLI and the audit log:
// test/integration/artifacts.test.ts).
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Release } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobGc } from './blob-gc.js';
import { BlobStore } from './blob-store.js';

const DAY = 86_400_000;

describe('BlobGc', () => {
  let dir: string;
  let blobs: BlobStore;
  let releases: Release[];
  let audited: Array<{ actor: string; verb: string; name: string }>;
  let gc: BlobGc;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-blob-gc-'));
    blobs = new BlobStore(join(dir, 'blobs'));
    releases = [];
    audited = [];
    gc = new BlobGc({ blobs, releases: () => releases, graceMs: DAY, everyMs: 0, audit: (actor, rows) => audited.push(...rows.map((r) => ({ actor, ...r }))) });
  });
  afterEach(() => {
    gc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = async (text: string, ageMs: number): Promise<string> => {
    const { digest } = await blobs.put(Readable.from([Buffer.from(text)]));
    const t = new Date(Date.now() - ageMs);
    utimesSync(blobs.path(digest), t, t);
    return digest;
  };
  const listing = (...digests: string[]): Release => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: 'r' }, spec: { version: '1.33.0', artifacts: digests.map((digest, i) => ({ name: `a${i}`, type: 'binary', digest, size: 1 })) } });

  it('removes only what no Release lists and is past the grace; a dry run removes nothing', async () => {
    const listed = await put('listed', 2 * DAY);
    const old = await put('old', 2 * DAY);
    const fresh = await put('fresh', DAY / 2);
    releases = [listing(listed)];
    const dry = gc.sweep({ dryRun: true, actor: 'admin1' });
    expect(dry).toMatchObject({ dryRun: true, removed: [{ digest: old, size: 3 }], freedBytes: 3, referenced: 1, fresh: 1, held: 0, graceSeconds: 86_400 });
    expect(blobs.has(old)).toBe(true);
    expect(gc.sweep()).toMatchObject({ dryRun: false, removed: [{ digest: old }], freedBytes: 3 });
    expect([blobs.has(listed), blobs.has(old), blobs.has(fresh)]).toEqual([true, false, true]);
    expect(audited).toEqual([{ actor: 'admin1', verb: 'gc-blobs-dry-run', name: '' }, { actor: 'hub:blob-gc', verb: 'delete-blob', name: old }]);
    // Once its Release is gone, the listed one goes too.
    releases = [];
    expect(gc.sweep().removed.map((r) => r.digest)).toEqual([listed]);
  });

  it('keeps a blob while it is served or held for a bundle, and removes it once the reader is done', async () => {
    const served = await put('served', 2 * DAY);
    const bundled = await put('bundled', 2 * DAY);
    const stream = blobs.open(served);
    const release = blobs.hold([bundled]);
    expect(gc.sweep()).toMatchObject({ removed: [], held: 2 });
    release();
    release();
    let read = '';
    for await (const chunk of stream) read += (chunk as Buffer).toString();
    expect(read).toBe('served');
    await new Promise((r) => setImmediate(r));
    expect(gc.sweep().removed.map((r) => r.digest).sort()).toEqual([bundled, served].sort());
  });

  it('gives a blob an uploader asked about the whole grace again', async () => {
    const asked = await put('asked', 2 * DAY);
    blobs.touch(asked);
    expect(gc.sweep()).toMatchObject({ removed: [], fresh: 1 });
  });
});
