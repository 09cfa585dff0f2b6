// Lists in pages and the query-parameter table, through the admin API in process (app.request()) on a
// real Store on a temp SQLite file, as app.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret, randomToken } from '../auth/secrets.js';
import { Presence } from '../gateway/presence.js';
import { Store } from '../store/store.js';
import { createApi } from './app.js';

type Json = any;

const GV = 'outpost.dev/v1alpha1';
const API = `/apis/${GV}`;
const SITES = `${API}/sites`;

let dir: string;
let store: Store;
let presence: Presence;
let app: ReturnType<typeof createApi>;
let token: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-lists-'));
  store = new Store(join(dir, 'hub.db'));
  presence = new Presence(store);
  app = createApi({ store, presence, caCertPem: 'test', version: '0.0.0-test' });
  const secret = randomToken(32);
  store.create({ apiVersion: GV, kind: 'Token', metadata: { name: 'admin1' }, spec: { type: 'api', role: 'admin' } } as Token, { actor: 'test' });
  store.putCredential('token/admin1', 'api', hashSecret(secret));
  token = `admin1.${secret}`;
});

afterEach(() => {
  presence.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Json; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) };
  const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

const site = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: GV, kind: 'Site', metadata: { name, labels }, spec: { location: 'x' } });
const names = (r: { body: Json }): string[] => r.body.items.map((o: Json) => o.metadata.name);

async function sites(...list: Array<[string, Record<string, string>?]>): Promise<void> {
  for (const [n, labels] of list) expect((await call('POST', SITES, site(n, labels))).status).toBe(201);
}

function expectRefused(r: { status: number; body: Json }, code: number, message: RegExp): void {
  expect({ status: r.status, kind: r.body.kind, code: r.body.code, message: r.body.message }).toEqual({ status: code, kind: 'Status', code, message: expect.stringMatching(message) });
}

describe('lists in pages (limit, continue)', () => {
  it('serves a list page by page, every page of the same revision, with what follows counted', async () => {
    await sites(['s1'], ['s2'], ['s3'], ['s4'], ['s5']);
    const one = await call('GET', `${SITES}?limit=2`);
    expect(names(one)).toEqual(['s1', 's2']);
    expect(one.body.metadata).toMatchObject({ remainingItemCount: 3, continue: expect.any(String) });
    const rv = one.body.metadata.resourceVersion;

    // Between pages: s3 changes, s4 goes, s0 and s6 come. The later pages still show the list at rv.
    expect((await call('PATCH', `${SITES}/s3`, { spec: { location: 'moved' } }, 'application/merge-patch+json')).status).toBe(200);
    expect((await call('DELETE', `${SITES}/s4`)).status).toBe(200);
    await sites(['s0'], ['s6']);
    const seen: Json[] = [...one.body.items];
    let cont: string | undefined = one.body.metadata.continue;
    while (cont) {
      const page = await call('GET', `${SITES}?limit=2&continue=${encodeURIComponent(cont)}`);
      expect(page.status).toBe(200);
      expect(page.body.metadata.resourceVersion).toBe(rv);
      seen.push(...page.body.items);
      cont = page.body.metadata.continue;
    }
    expect(seen.map((o) => o.metadata.name)).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(seen[2].spec.location).toBe('x');
    // A new list sees now.
    expect(names(await call('GET', SITES))).toEqual(['s0', 's1', 's2', 's3', 's5', 's6']);
  });

  it('counts only matching objects toward limit', async () => {
    await sites(['a', { tier: 'gold' }], ['b', {}], ['c', {}], ['d', { tier: 'gold' }], ['e', { tier: 'gold' }]);
    const one = await call('GET', `${SITES}?limit=2&labelSelector=tier%3Dgold`);
    expect(names(one)).toEqual(['a', 'd']);
    const two = await call('GET', `${SITES}?limit=2&labelSelector=tier%3Dgold&continue=${one.body.metadata.continue}`);
    expect([names(two), two.body.metadata.continue]).toEqual([['e'], undefined]);
    expect(names(await call('GET', `${SITES}?labelSelector=${encodeURIComponent('tier notin (gold)')}`))).toEqual(['b', 'c']);
    expect(names(await call('GET', `${SITES}?limit=0`))).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('refuses a continue token it did not make, one of another list, and one with a resourceVersion', async () => {
    await sites(['a'], ['b']);
    const cont = (await call('GET', `${SITES}?limit=1`)).body.metadata.continue;
    expectRefused(await call('GET', `${SITES}?continue=nonsense!`), 400, /the continue token is not valid \(not base64url\)/);
    expectRefused(await call('GET', `${SITES}?continue=${Buffer.from('{"rv":"x"}').toString('base64url')}`), 400, /not one this hub made/);
    expectRefused(await call('GET', `${API}/datacenters?continue=${cont}`), 400, /it continues a list of Site, not this one/);
    expectRefused(await call('GET', `${SITES}?continue=${cont}&resourceVersion=1`), 400, /resourceVersion and resourceVersionMatch cannot be given with continue/);
    expectRefused(await call('GET', `${SITES}?limit=-1`), 400, /limit=-1 is not a whole number/);
  });

  it('answers 410 Gone for a continue the compacted change log no longer reaches', async () => {
    await sites(['a'], ['b'], ['c']);
    const cont = (await call('GET', `${SITES}?limit=1`)).body.metadata.continue;
    await sites(['d']);
    store.compact(store.revision());
    expectRefused(await call('GET', `${SITES}?limit=1&continue=${cont}`), 410, /can no longer be continued: the change log is compacted up to \d+; list again without continue/);
  });

  it('lists at an exact past revision, and refuses one it has not reached', async () => {
    await sites(['a'], ['b']);
    const rv = Number((await call('GET', SITES)).body.metadata.resourceVersion);
    expect((await call('DELETE', `${SITES}/a`)).status).toBe(200);
    const then = await call('GET', `${SITES}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect([names(then), then.body.metadata.resourceVersion]).toEqual([['a', 'b'], String(rv)]);
    expect(names(await call('GET', `${SITES}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`))).toEqual(['b']);
    expect(names(await call('GET', `${SITES}?resourceVersion=0`))).toEqual(['b']);
    expectRefused(await call('GET', `${SITES}?resourceVersion=${rv + 10}`), 400, /resourceVersion \d+ is newer than the hub's revision \d+/);
    expectRefused(await call('GET', `${SITES}?resourceVersionMatch=Exact`), 400, /resourceVersionMatch=Exact needs a resourceVersion/);
    expectRefused(await call('GET', `${SITES}?resourceVersion=0&resourceVersionMatch=Exact`), 400, /other than 0/);
    expectRefused(await call('GET', `${SITES}?resourceVersionMatch=Latest`), 400, /resourceVersionMatch=Latest is not one of NotOlderThan, Exact/);
    expectRefused(await call('GET', `${SITES}/b?resourceVersion=${rv + 10}`), 400, /newer than the hub's revision/);
  });
});

describe('query parameters', () => {
  it('refuses one the verb does not take, by name', async () => {
    await sites(['a']);
    expectRefused(await call('GET', `${SITES}?labelSelecter=tier%3Dgold`), 400, /query parameter "labelSelecter" is not accepted on list; list takes .*labelSelector/);
    expectRefused(await call('PUT', `${SITES}/a?force=true`, site('a')), 400, /query parameter "force" is not accepted on update; it applies to patch/);
    expectRefused(await call('GET', `${SITES}/a?limit=1`), 400, /"limit" is not accepted on get; it applies to list/);
    expectRefused(await call('GET', `${SITES}?watch=true&limit=1`), 400, /"limit" is not accepted on watch; it applies to list/);
    expectRefused(await call('GET', `${SITES}?watch=true&sendInitialEvents=true`), 400, /sendInitialEvents=true is not supported: list, then watch/);
    expectRefused(await call('GET', `${SITES}?allowWatchBookmarks=true`), 400, /"allowWatchBookmarks" is not accepted on list; it applies to watch/);
    expectRefused(await call('GET', `${SITES}?limit=1&limit=2`), 400, /"limit" is given 2 times/);
    expectRefused(await call('DELETE', `${SITES}/a?propagationPolicy=Sometimes`), 400, /propagationPolicy=Sometimes is not one of Orphan, Background, Foreground/);
    expectRefused(await call('GET', `${SITES}?timeout=soon`), 400, /timeout=soon is not a duration/);
    expectRefused(await call('POST', `${SITES}?includeObject=Object`, site('b')), 400, /"includeObject" is not accepted on create; it applies to list, watch, get/);
    expect((await call('GET', SITES)).body.items).toHaveLength(1);
  });

  // The query strings the test world's kubectl (1.34) sends, read with -v=6 against a hub.
  it.each([
    ['GET', `${SITES}?labelSelector=tier%3Dgold&limit=1`],
    ['GET', `${SITES}?fieldSelector=metadata.name%3Da&limit=500&resourceVersion=0`],
    ['GET', `${SITES}?limit=500&timeout=5s`],
    ['GET', `${SITES}?includeObject=Object`],
    ['POST', `${SITES}?fieldManager=kubectl-create&fieldValidation=Ignore`],
    ['PATCH', `${SITES}/a?fieldManager=kubectl-client-side-apply&fieldValidation=Ignore`],
    ['PATCH', `${SITES}/a?fieldManager=kubectl-label`],
    ['PUT', `${SITES}/a?fieldManager=kubectl-replace&fieldValidation=Ignore`],
    ['POST', `${SITES}?dryRun=All&fieldManager=kubectl-create&fieldValidation=Strict`],
    ['DELETE', `${SITES}/a?gracePeriodSeconds=0&propagationPolicy=Orphan&orphanDependents=false&timeout=30s`],
  ])('takes kubectl\'s %s %s', async (method, path) => {
    await sites(['a']);
    const body = method === 'POST' ? site('b') : method === 'PUT' ? (await call('GET', `${SITES}/a`)).body : method === 'PATCH' ? { metadata: { labels: { x: 'y' } } } : undefined;
    const r = await call(method, path, body, method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    expect([r.status, r.body.message]).toEqual([method === 'POST' ? 201 : 200, undefined]);
  });

  it('takes kubectl\'s watch (wait, get -w) and allowWatchBookmarks there', async () => {
    await sites(['a']);
    const res = await app.request(`${SITES}?allowWatchBookmarks=true&fieldSelector=metadata.name%3Da&resourceVersion=1&timeoutSeconds=1&watch=true`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await res.body!.cancel();
  });

  it('indents the answer with pretty=true', async () => {
    await sites(['a']);
    const r = await call('GET', `${SITES}/a?pretty=true`);
    expect(r.text).toBe(`${JSON.stringify(r.body, null, 2)}\n`);
    expect((await call('GET', `${SITES}/a`)).text).not.toContain('\n');
  });
});

describe('bodies found by the fuzzer', () => {
  it('refuses a POST of null, 400, not a 500', async () => {
    const r = await call('POST', SITES, null);
    expectRefused(r, 400, /a Site must be a JSON object, not null/);
  });
});
