// A watch's bounds, in process: a reader that stops reading is dropped with 410 Expired instead of
// buffering every later event; a watch ends when its token is deleted or expires; a watch from a
// compacted revision is told 410 Expired with the hub's revision; a watch without timeoutSeconds ends.
import type { ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiOptions } from './app.js';
import { API, ApiFixture, GV } from './api.fixture.js';

type Json = any;
const SITES = `${API}/sites`;

let f: ApiFixture;
let store: ApiFixture['store'];
const api = (watchLimits: ApiOptions['watchLimits']): void => f.rebuild({ watchLimits });

/** A site with a location of `bytes` characters: one event about that large. */
const site = (name: string, bytes = 10): ResourceObject => ({ apiVersion: GV, kind: 'Site', metadata: { name }, spec: { location: 'x'.repeat(bytes) } }) as ResourceObject;
const write = (name: string, bytes: number): void => {
  const current = store.get('Site', '', name);
  if (current) store.replace({ ...current, spec: { location: `${'y'.repeat(bytes)}${store.revision()}` } }, { actor: 'test' });
  else store.create(site(name, bytes), { actor: 'test' });
};

/** Reads a watch's events to its end (or until `until` says stop), failing after 5 s. */
async function events(res: Response | ReadableStreamDefaultReader<Uint8Array>, until: (e: Json) => boolean = () => false): Promise<Json[]> {
  const reader = res instanceof Response ? res.body!.getReader() : res;
  const decoder = new TextDecoder();
  const out: Json[] = [];
  let buffered = '';
  const deadline = Date.now() + 5000;
  for (;;) {
    const chunk = await Promise.race([reader.read(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`watch still open after 5 s; had ${out.length} events`)), Math.max(1, deadline - Date.now())))]);
    if (chunk.done) return out;
    buffered += decoder.decode(chunk.value, { stream: true });
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      out.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
      if (until(out.at(-1))) {
        await reader.cancel();
        return out;
      }
    }
  }
}

const watch = (query: string, token = f.admin): Promise<Response> => Promise.resolve(f.app.request(`${SITES}?watch=true&${query}`, { headers: { authorization: `Bearer ${token}` } }));

beforeEach(() => {
  f = new ApiFixture();
  store = f.store;
});

afterEach(() => f.close());

describe('a watch that does not keep up', () => {
  it('is dropped with one ERROR 410 Expired carrying the revision once its reader falls behind, holding nothing more', async () => {
    api({ maxBufferedBytes: 64 * 1024 });
    const start = store.revision();
    const res = await watch(`resourceVersion=${start}`);
    expect(res.status).toBe(200);
    // The reader takes the first event, then stops reading.
    const reader = res.body!.getReader();
    const first = reader.read();
    // 100 events of 4 KiB, one read: 400 KiB, six times the bound.
    for (let i = 0; i < 100; i++) write('store-0412', 4096);
    expect((await first).value?.byteLength).toBeGreaterThan(4096);
    const got = await events(reader);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired' } });
    // The hub's revision when it was dropped: the 16th event of 4 KiB after the first passed the 64 KiB bound.
    expect(Number(got[0].object.metadata.resourceVersion)).toBe(start + 17);
    expect(got[0].object.message).toMatch(/fell more than 65536 bytes of events behind its reader.*list again/);
  });

  it('is cut off when it does not even take its ERROR event within the grace', async () => {
    api({ maxBufferedBytes: 16 * 1024, drainGraceMs: 50 });
    const res = await watch(`resourceVersion=${store.revision()}`);
    const reader = res.body!.getReader();
    const first = reader.read();
    for (let i = 0; i < 10; i++) write('store-0412', 4096);
    await first;
    await new Promise((r) => setTimeout(r, 100));
    await expect(reader.read()).rejects.toThrow(/too slow; connection closed/);
  });

  it('is not dropped while its reader keeps up, however much goes through it', async () => {
    api({ maxBufferedBytes: 64 * 1024 });
    const res = await watch(`resourceVersion=${store.revision()}&timeoutSeconds=2`);
    const reading = events(res, (e) => e.object?.spec?.location?.endsWith('last'));
    for (let i = 0; i < 100; i++) {
      write('store-0412', 4096);
      await new Promise((r) => setImmediate(r));
    }
    store.replace({ ...store.mustGet('Site', '', 'store-0412'), spec: { location: 'last' } }, { actor: 'test' });
    const got = await reading;
    expect(got.map((e) => e.type)).toEqual(['ADDED', ...Array(100).fill('MODIFIED')]);
  });

  it('reads the change log a page at a time for a reader that has not caught up, holding no live events meanwhile', async () => {
    api({ maxBufferedBytes: 16 * 1024 });
    const start = store.revision();
    const res = await watch(`resourceVersion=${start}`);
    // Never read while 400 KiB of events are written: they stay in the change log, not in the queue.
    for (let i = 0; i < 100; i++) write(`s-${i % 10}`, 4096);
    const got = await events(res, (e) => e.object.metadata.resourceVersion === String(start + 100));
    expect(got.map((e) => e.type)).toEqual([...Array(10).fill('ADDED'), ...Array(90).fill('MODIFIED')]);
  });

  it('sends a backlog longer than the bound whole: it is read as the reader asks', async () => {
    api({ maxBufferedBytes: 16 * 1024 });
    for (let i = 0; i < 50; i++) write(`s-${i}`, 4096);
    const got = await events(await watch('resourceVersion=1'), (e) => e.object.metadata.name === 's-49');
    expect(got.map((e) => e.object.metadata.name)).toEqual(Array.from({ length: 50 }, (_, i) => `s-${i}`));
  });
});

describe("a watch and its caller's token", () => {
  it('ends with ERROR 401 when the token is deleted mid-watch, and sends nothing after', async () => {
    const other = f.apiToken('other1', { type: 'api', role: 'admin' });
    const res = await watch(`resourceVersion=${store.revision()}`, other);
    const reading = events(res);
    write('store-0412', 10);
    const del = await f.app.request(`${API}/tokens/other1`, { method: 'DELETE', headers: { authorization: `Bearer ${f.admin}` } });
    expect(del.status).toBe(200);
    write('store-0413', 10);
    const got = await reading;
    expect(got.map((e) => e.type)).toEqual(['ADDED', 'ERROR']);
    expect(got[1].object).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized', message: expect.stringMatching(/watch ended: API token not recognised/) });
  });

  it('ends with ERROR 401 when the token expires mid-watch, by the hub clock', async () => {
    api({ recheckEveryMs: 20 });
    const expiring = f.apiToken('exp001', { type: 'api', role: 'admin', expires: new Date(f.clock.now().getTime() + 60_000).toISOString() });
    const res = await watch(`resourceVersion=${store.revision()}`, expiring);
    const reading = events(res);
    write('store-0412', 10);
    await new Promise((r) => setTimeout(r, 60));
    f.clock.advance(61_000);
    const got = await reading;
    expect(got.map((e) => e.type)).toEqual(['ADDED', 'ERROR']);
    expect(got[1].object).toMatchObject({ code: 401, reason: 'Unauthorized', message: expect.stringMatching(/expired/) });
  });
});

describe('watch lifetime and compaction', () => {
  it('answers a watch from a compacted revision with 200 and one ERROR 410 Expired naming the hub revision, as kube-apiserver does', async () => {
    for (let i = 0; i < 5; i++) write('store-0412', 10);
    store.compact(store.revision() - 1);
    const res = await watch('resourceVersion=2');
    expect(res.status).toBe(200);
    const got = await events(res);
    expect(got).toEqual([
      {
        type: 'ERROR',
        object: expect.objectContaining({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', metadata: { resourceVersion: String(store.revision()) }, message: expect.stringMatching(/too old resource version: 2 .*list again/) }),
      },
    ]);
  });

  it('tells a watch whose place in the change log was compacted while it caught up 410 Expired', async () => {
    const start = store.revision();
    const res = await watch(`resourceVersion=${start}`);
    for (let i = 0; i < 5; i++) write('store-0412', 10);
    store.compact(store.revision() - 1);
    const got = await events(res);
    expect(got).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired', message: expect.stringMatching(new RegExp(`too old resource version: ${start} `)) }) }]);
  });

  it('ends a watch without timeoutSeconds after the server default, between it and twice it', async () => {
    api({ minTimeoutMs: 100 });
    const started = Date.now();
    expect(await events(await watch(''))).toEqual([]);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(1000);
  });

  it('refuses a timeoutSeconds a timer cannot hold', async () => {
    const r = await watch('timeoutSeconds=99999999999');
    expect(r.status).toBe(400);
    expect(((await r.json()) as Json).message).toMatch(/longer than a watch may last/);
  });
});
