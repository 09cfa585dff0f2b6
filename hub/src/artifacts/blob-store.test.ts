import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore } from './blob-store.js';
import { BlobTooLargeError, DigestMismatchError } from './errors.js';

const dirs: string[] = [];
function store(): { root: string; blobs: BlobStore } {
  const root = mkdtempSync(join(tmpdir(), 'blob-store-'));
  dirs.push(root);
  return { root, blobs: new BlobStore(join(root, 'blobs')) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const text = async (s: Readable): Promise<string> => {
  let out = '';
  for await (const c of s) out += (c as Buffer).toString();
  return out;
};

describe('BlobStore', () => {
  it('keeps a stream under its digest, 0600 in 0700 directories, and reads it whole or in part', async () => {
    const { root, blobs } = store();
    const bytes = Buffer.from('hello, artifacts');
    const put = await blobs.put(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]));
    expect(put).toEqual({ digest: digestOf(bytes), size: bytes.length });
    expect(blobs.has(put.digest)).toBe(true);
    expect(blobs.path(put.digest)).toBe(join(root, 'blobs', 'sha256', put.digest.slice(7)));
    expect(statSync(blobs.path(put.digest)).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'blobs', 'sha256')).mode & 0o777).toBe(0o700);
    expect(await text(blobs.open(put.digest))).toBe('hello, artifacts');
    expect(await text(blobs.open(put.digest, { start: 7, end: 15 }))).toBe('artifacts');
    expect(readdirSync(join(root, 'blobs', 'tmp'))).toEqual([]);
  });
  it('stores a file', async () => {
    const { root, blobs } = store();
    writeFileSync(join(root, 'f'), 'file bytes');
    const put = await blobs.put(join(root, 'f'));
    expect(readFileSync(blobs.path(put.digest), 'utf8')).toBe('file bytes');
  });
  it('keeps nothing when the digest is not the one announced, or the blob is over the limit', async () => {
    const { root, blobs } = store();
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(blobs.put(Readable.from([Buffer.from('abc')]), { expectedDigest: wrong })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(blobs.has(wrong)).toBe(false);
    await expect(blobs.put(Readable.from([Buffer.alloc(100)]), { maxBytes: 99 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(readdirSync(join(root, 'blobs', 'sha256'))).toEqual([]);
    expect(readdirSync(join(root, 'blobs', 'tmp'))).toEqual([]);
  });
  it('refuses a malformed digest, and holds none', () => {
    const { blobs } = store();
    expect(blobs.has('sha256:abc')).toBe(false);
    expect(() => blobs.path('md5:abc')).toThrow(/sha256:<64 hex digits>/);
  });
});
