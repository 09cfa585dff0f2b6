// Who may read and write blobs, in process (a real hub, agent and Range reads: test/integration/artifacts.test.ts).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BLOB_GC_PATH, BLOB_PATH } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobGc } from '../artifacts/blob-gc.js';
import { BlobStore } from '../artifacts/blob-store.js';
import { ApiFixture } from './api.fixture.js';

let f: ApiFixture;
let blobs: BlobStore;
beforeEach(() => {
  f = new ApiFixture();
  blobs = new BlobStore(join(f.dir, 'blobs'));
  f.rebuild({ blobs: { blobs, maxUploadBytes: 1024, gc: new BlobGc({ blobs, releases: () => [], graceMs: 86_400_000, everyMs: 0 }) } });
});
afterEach(() => f.close());

const bytes = Buffer.from('kubeadm, say');
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const call = (method: string, token: string | undefined, body?: Buffer, path = `${BLOB_PATH}/${digest}`) =>
  f.app.request(path, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body ? { body } : {}) });

describe('blob routes', () => {
  it('takes an upload from an admin, and answers HEAD with its size', async () => {
    expect((await call('HEAD', f.admin)).status).toBe(404);
    const put = await call('PUT', f.admin, bytes);
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ digest, size: bytes.length, created: true });
    const head = await call('HEAD', f.admin);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect((await call('PUT', f.admin, bytes)).status).toBe(200);
  });

  it('refuses other tokens (403), no token (401), a malformed digest (400), a body over the limit (413)', async () => {
    const viewer = f.apiToken('viewer1', { type: 'api', role: 'viewer', project: 'demo' });
    expect((await call('PUT', viewer, bytes)).status).toBe(403);
    expect((await call('GET', viewer)).status).toBe(403);
    expect((await call('GET', undefined)).status).toBe(401);
    expect((await call('GET', f.admin, undefined, `${BLOB_PATH}/sha256:xyz`)).status).toBe(400);
    const big = Buffer.alloc(2048);
    const r = await call('PUT', f.admin, big, `${BLOB_PATH}/sha256:${createHash('sha256').update(big).digest('hex')}`);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { message: string }).message).toContain('--max-upload-size');
  });

  it('runs the garbage collector for an admin only, and refuses a dryRun that is not true or false', async () => {
    const gc = (token: string | undefined, query = '?dryRun=true') => call('POST', token, undefined, `${BLOB_GC_PATH}${query}`);
    const viewer = f.apiToken('viewer1', { type: 'api', role: 'viewer', project: 'demo' });
    const refused = await gc(viewer);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/may not run the blob garbage collector: only admins$/);
    expect((await gc(undefined)).status).toBe(401);
    expect((await gc(f.admin, '?dryRun=yes')).status).toBe(400);
    expect(await (await gc(f.admin)).json()).toEqual({ dryRun: true, removed: [], freedBytes: 0, referenced: 0, fresh: 0, held: 0, graceSeconds: 86_400 });
  });
});
