import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { LaggedDigest } from './lagged-digest.js';

async function run(data: Buffer, chunk: number, tail: number) {
  const chunks = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) => data.subarray(i * chunk, (i + 1) * chunk));
  const lagged = new LaggedDigest(tail);
  await pipeline(Readable.from(chunks), lagged, new Writable({ write: (_c, _e, done) => done() }));
  return lagged.result();
}

describe('LaggedDigest', () => {
  it('hashes all but the last `tail` bytes and keeps those, however the stream is chunked', async () => {
    const data = randomBytes(10_000);
    const want = createHash('sha256').update(data.subarray(0, data.length - 2560)).digest('hex');
    for (const chunk of [1, 7, 511, 2560, 4096, 10_000]) {
      const { digest, tail } = await run(data, chunk, 2560);
      expect(digest).toBe(want);
      expect(tail.equals(data.subarray(data.length - 2560))).toBe(true);
    }
  });
});
