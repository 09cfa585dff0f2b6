// Hostile and malformed requests get a 4xx Status that says what to send instead, never a 500, and
// write nothing.
import { JOIN_PATH, type ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API, ApiFixture, GV } from './api.fixture.js';

const SITES = `${API}/sites`;
const site = { apiVersion: GV, kind: 'Site', metadata: { name: 'store-0412' }, spec: { location: 'Hamburg' } };

let f: ApiFixture;
let store: ApiFixture['store'];

beforeEach(() => {
  f = new ApiFixture();
  store = f.store;
  store.create(site as ResourceObject, { actor: 'test' });
});

afterEach(() => f.close());

async function send(method: string, path: string, body: string | undefined, contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'): Promise<{ status: number; reason: string; message: string }> {
  const res = await f.app.request(path, { method, headers: { authorization: `Bearer ${f.admin}`, ...(body !== undefined ? { 'content-type': contentType } : {}) }, body });
  const parsed = (await res.json()) as { kind?: string; reason?: string; message?: string };
  if (res.status >= 400) expect(parsed.kind).toBe('Status');
  return { status: res.status, reason: parsed.reason ?? '', message: parsed.message ?? '' };
}

describe('hostile requests are refused with 4xx, not 500', () => {
  it('refuses JSON nested 100,000 deep, in a merge patch and a create, writing nothing', async () => {
    const revision = store.revision();
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const patch = await send('PATCH', `${SITES}/store-0412`, `{"metadata":{"labels":${deep}}}`);
    expect(patch).toMatchObject({ status: 400, reason: 'BadRequest', message: expect.stringMatching(/nested deeper than \d+/) });
    const create = await send('POST', SITES, `{"apiVersion":"${GV}","kind":"Site","metadata":{"name":"deep"},"spec":${deep}}`);
    expect(create).toMatchObject({ status: 400, reason: 'BadRequest' });
    const array = await send('PATCH', `${SITES}/store-0412`, `{"spec":{"location":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
    expect(array).toMatchObject({ status: 400, reason: 'BadRequest' });
    expect(store.revision()).toBe(revision);
  });

  it('refuses a path that does not percent-decode', async () => {
    for (const path of [`${SITES}/%ZZ`, `${SITES}/store%E0%A4%A`, `${API}/namespaces/%ZZ/clusters`]) {
      expect(await send('GET', path, undefined)).toMatchObject({ status: 400, reason: 'BadRequest', message: expect.stringMatching(/not percent-encoded correctly/) });
    }
  });

  it('refuses a body of null, a number, a string or an array on every write verb', async () => {
    const revision = store.revision();
    for (const body of ['null', '5', '"x"', '[]', 'true']) {
      for (const [method, path] of [['POST', SITES], ['PUT', `${SITES}/store-0412`], ['PATCH', `${SITES}/store-0412`], ['PUT', `${SITES}/store-0412/status`], ['PATCH', `${SITES}/store-0412/status`]] as const) {
        const r = await send(method, path, body);
        expect({ method, path, body, status: r.status }).toEqual({ method, path, body, status: 400 });
        expect(r.message).toMatch(/must be a JSON object/);
      }
      expect((await send('POST', JOIN_PATH, body)).status).toBe(400);
    }
    expect(store.revision()).toBe(revision);
  });

  it('refuses a token ttl or expiry the clock cannot hold, naming the field', async () => {
    const token = (spec: object): string => JSON.stringify({ apiVersion: GV, kind: 'Token', metadata: {}, spec: { type: 'api', role: 'admin', ...spec } });
    const ttl = await send('POST', `${API}/tokens`, token({ ttl: '99999999999d' }));
    expect(ttl).toMatchObject({ status: 422, reason: 'Invalid', message: expect.stringMatching(/spec.ttl: "99999999999d" is not a duration/) });
    const expires = await send('POST', `${API}/tokens`, token({ expires: 'next tuesday' }));
    expect(expires).toMatchObject({ status: 422, reason: 'Invalid', message: expect.stringMatching(/spec.expires: "next tuesday" is not an RFC 3339 time/) });
    expect(store.list('Token').map((t) => t.metadata.name)).toEqual(['admin1']);
  });

  it('refuses a POST or PUT that is not application/json with 415, writing nothing', async () => {
    const revision = store.revision();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/yaml', '']) {
      expect(await send('POST', SITES, JSON.stringify({ ...site, metadata: { name: 'plain' } }), type)).toMatchObject({ status: 415, reason: 'UnsupportedMediaType', message: expect.stringMatching(/application\/json/) });
      expect((await send('PUT', `${SITES}/store-0412`, JSON.stringify(store.mustGet('Site', '', 'store-0412')), type)).status).toBe(415);
    }
    expect(store.revision()).toBe(revision);
    expect((await send('POST', SITES, JSON.stringify({ ...site, metadata: { name: 'json' } }), 'application/json; charset=utf-8')).status).toBe(201);
  });
});
