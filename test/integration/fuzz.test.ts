// A bounded fuzz of the frame decoder, the manifest reader and the admin API (in process and a real hub
// process), failing on any crash: an exception the target may not throw, a 500, or a hang. The long runs
// are npm run bench:fuzz; this keeps every commit to what they found. fast-check shrinks a failure to a
// small input and prints it with its seed.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hubTarget } from '../bench/fuzz/hub-target.js';
import { apiTarget, frameTarget, manifestTarget, type Target } from '../bench/fuzz/targets.js';

async function fuzz<T>(target: Target<T>, numRuns: number): Promise<void> {
  await fc.assert(fc.asyncProperty(target.arbitrary, (input) => target.check(input)), { numRuns, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false });
}

describe('fuzz (bounded)', () => {
  it('decodes any frame or refuses it with FrameError', async () => {
    const t = frameTarget();
    await fuzz(t, 5000);
    await t.close();
  });

  it('reads any manifest text or refuses it with ManifestError', async () => {
    const t = manifestTarget();
    await fuzz(t, 3000);
    await t.close();
  });

  it('answers any admin API request below 500, in time, in process', async () => {
    const t = apiTarget();
    try {
      await fuzz(t, 3000);
    } finally {
      await t.close();
    }
  });

  describe('a real hub process', () => {
    let t: Target<Parameters<Awaited<ReturnType<typeof hubTarget>>['check']>[0]>;
    beforeAll(async () => {
      t = await hubTarget();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers any request below 500 and stays up', async () => {
      await fuzz(t, 300);
    });
  });
});
