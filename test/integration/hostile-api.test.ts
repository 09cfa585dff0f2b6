// The admin API against hostile callers, on a real hub process: a watch that never reads costs the hub a
// bounded amount of memory (its VmRSS, from /proc) and is dropped with 410 Expired; a watch ends when its
// token is deleted; a project owner cannot rename its Project onto another; the data directory and the
// agent's state are owner-only on disk; no token or credential reaches the hub's log or sits in hub.db
// in the clear. Every attack is bounded in time and size.
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { datacenter, project, site } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';

const API = '/apis/outpost.dev/v1alpha1';
const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);

/** The hub process's resident memory in bytes, from /proc. */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/**
 * The hub's VmRSS after a full garbage collection, asked of the hub's inspector (loopback, started by
 * --inspect=127.0.0.1:0): what the hub keeps, not what garbage it has yet to collect.
 */
async function rssAfterGc(hub: TestHub): Promise<number> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(hub.proc!.stderr)?.[1];
  if (!url) throw new Error(`the hub's inspector did not say where it listens: ${hub.proc!.stderr.slice(0, 500)}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  try {
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => (JSON.parse(data.toString()) as { id?: number }).id === 1 && resolve());
      ws.once('error', reject);
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    });
  } finally {
    ws.close();
  }
  return rss(hub.proc!.child.pid!);
}

interface Watch {
  /** Resolves with the response once its headers are in. */
  opened: Promise<void>;
  /** Starts (or resumes) reading. */
  read(): void;
  /** Resolves when the hub ends the stream. */
  ended: Promise<void>;
  bytes(): number;
  events(): Array<{ type: string; object: { code?: number; reason?: string; message?: string; metadata?: { resourceVersion?: string } } }>;
  destroy(): void;
}

/** A watch whose reading the test controls: paused, a paused response stops reading its socket. */
function watch(hub: TestHub, path: string, token: string, paused: boolean): Watch {
  let bytes = 0;
  let buffered = '';
  const events: ReturnType<Watch['events']> = [];
  let onOpen!: () => void;
  let onEnd!: () => void;
  const opened = new Promise<void>((r) => (onOpen = r));
  const ended = new Promise<void>((r) => (onEnd = r));
  let response: import('node:http').IncomingMessage | undefined;
  const options: RequestOptions = { ca: hub.caCertPem, headers: { authorization: `Bearer ${token}` } };
  const req = request(`${hub.url}${path}`, options, (res) => {
    response = res;
    if (paused) res.pause();
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        // Only the small lines are parsed: the flood's events are half a megabyte each.
        const line = buffered.slice(0, nl);
        if (line.length < 4096) events.push(JSON.parse(line));
        buffered = buffered.slice(nl + 1);
      }
    });
    res.on('end', onEnd);
    res.on('close', onEnd);
    onOpen();
  });
  req.on('error', () => onEnd());
  req.end();
  return { opened, read: () => response?.resume(), ended, bytes: () => bytes, events: () => events, destroy: () => req.destroy() };
}

/** One HTTPS call with a raw body and content type, answering status and parsed body. */
function call(hub: TestHub, method: string, path: string, token: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: { kind?: string; reason?: string; message?: string; metadata?: { name?: string; labels?: Record<string, string> }; status?: { token?: string } } }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(`${hub.url}${path}`, { method, ca: hub.caCertPem, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function apiToken(hub: TestHub, spec: object): Promise<string> {
  const r = await call(hub, 'POST', `${API}/tokens`, hub.adminToken, { apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: {}, spec: { type: 'api', ...spec } });
  expect(r.status).toBe(201);
  return r.body.status!.token!;
}

let hub: TestHub;
let agent: TestAgent | undefined;

beforeAll(async () => {
  hub = await TestHub.start({
    serveArgs: ['--log-level', 'debug'],
    // So that VmRSS shows what the hub keeps rather than what it once touched: the inspector lets the
    // test collect the hub's garbage before it reads VmRSS, and glibc hands freed buffers of 64 KiB and
    // more back to the OS.
    nodeArgs: ['--inspect=127.0.0.1:0'],
    env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '65536' },
    // As an older hub left them: a world-readable directory and database.
    beforeServe: (dataDir) => {
      chmodSync(dataDir, 0o755);
      chmodSync(join(dataDir, 'hub.db'), 0o644);
    },
  });
  await hub.apply(project('demo'), project('other'), site('store-0412'), datacenter('hamburg-stores', { site: 'store-0412' }));
});

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
});

describe('hostile callers against a real hub', () => {
  it('keeps the data directory, hub.db and its WAL owner-only, fixing what an older hub left open', () => {
    const d = hub.dataDir;
    expect(mode(d)).toBe('700');
    const files = ['hub.db', 'hub.db-wal', 'hub.db-shm', 'ca.key', 'hub.key', 'secrets.key', 'admin.token', 'ticket.keys'];
    expect(Object.fromEntries(files.map((f) => [f, existsSync(join(d, f)) ? mode(join(d, f)) : 'missing']))).toEqual(Object.fromEntries(files.map((f) => [f, '600'])));
  });

  it("refuses a project owner's PATCH that renames its Project onto another (400), leaving both as they were", async () => {
    const owner = await apiToken(hub, { role: 'owner', project: 'demo' });
    const r = await call(hub, 'PATCH', `${API}/projects/demo`, owner, { metadata: { name: 'other', labels: { taken: 'yes' } } }, 'application/merge-patch+json');
    expect({ status: r.status, reason: r.body.reason }).toEqual({ status: 400, reason: 'BadRequest' });
    expect(r.body.message).toMatch(/metadata.name "other" does not match the name in the path "demo"/);
    const other = await call(hub, 'GET', `${API}/projects/other`, hub.adminToken);
    expect(other.body.metadata?.labels?.taken).toBeUndefined();
    // And the owner still may not touch Project other directly.
    expect((await call(hub, 'PATCH', `${API}/projects/other`, owner, { metadata: { labels: { taken: 'yes' } } }, 'application/merge-patch+json')).status).toBe(403);
  });

  it('ends a watch with ERROR 401 when its token is deleted mid-watch', async () => {
    const token = await apiToken(hub, { role: 'admin' });
    const revision = (await call(hub, 'GET', '/version', hub.adminToken)).body as { revision?: number };
    const w = watch(hub, `${API}/sites?watch=true&resourceVersion=${revision.revision}`, token, false);
    await w.opened;
    await call(hub, 'PATCH', `${API}/sites/store-0412`, hub.adminToken, { metadata: { labels: { seen: 'before' } } }, 'application/merge-patch+json');
    await waitFor('the event before the deletion', () => w.events().length === 1, 5000);
    expect((await call(hub, 'DELETE', `${API}/tokens/${token.split('.')[0]}`, hub.adminToken)).status).toBe(200);
    await call(hub, 'PATCH', `${API}/sites/store-0412`, hub.adminToken, { metadata: { labels: { seen: 'after' } } }, 'application/merge-patch+json');
    await Promise.race([w.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the watch outlived its token by 5 s')), 5000))]);
    expect(w.events().map((e) => e.type)).toEqual(['MODIFIED', 'ERROR']);
    expect(w.events()[1]!.object).toMatchObject({ code: 401, reason: 'Unauthorized' });
  });

  it('holds a bounded amount of memory for a watch that never reads, drops it with ERROR 410 Expired, and delivers little on resume', async () => {
    const revision = ((await call(hub, 'GET', '/version', hub.adminToken)).body as { revision?: number }).revision;
    const w = watch(hub, `${API}/sites?watch=true&resourceVersion=${revision}`, hub.adminToken, true);
    await w.opened;
    const before = await rssAfterGc(hub);
    // 384 events of 256 KiB: 96 MiB the hub would keep for this reader if it buffered without bound.
    const location = 'x'.repeat(256 * 1024);
    const started = Date.now();
    for (let i = 0; i < 384; i++) {
      const r = await call(hub, 'PATCH', `${API}/sites/store-0412`, hub.adminToken, { spec: { location: `${i}${location}` } }, 'application/merge-patch+json');
      expect(r.status).toBe(200);
    }
    const grown = (await rssAfterGc(hub)) - before;
    expect(Date.now() - started).toBeLessThan(90_000);
    // The bound is 8 MiB of queued events; the rest is the hub's garbage from 96 MiB of requests.
    // Dropped, the watcher holds one ERROR event; what the hub grows by is its heap's room after 96 MiB
    // of requests (about 35 MiB here). Buffering without bound grew it by 130 MiB in this same test.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    w.read();
    await Promise.race([w.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the dropped watch did not end within 10 s of reading it')), 10_000))]);
    // What the socket buffers held before the drop, and the ERROR: nothing like the 96 MiB written.
    expect(w.bytes()).toBeLessThan(24 * 1024 * 1024);
    expect(w.events().at(-1)).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: expect.stringMatching(/fell more than \d+ bytes of events behind/) } });
    expect(Number(w.events().at(-1)!.object.metadata?.resourceVersion)).toBeGreaterThan(revision ?? 0);
  });

  it('keeps every token and credential out of the log and out of hub.db in the clear, through a join, an agent connection and API calls', async () => {
    const bootstrap = await hub.bootstrapToken({ site: 'store-0412' });
    agent = await TestAgent.join(hub, { site: 'store-0412' }, 'logs');
    agent.start(['--log-level', 'debug']);
    await waitFor('the agent to connect', async () => ((await call(hub, 'GET', `${API}/agents/${agent!.agentId}`, hub.adminToken)).body as { status?: { connected?: boolean } }).status?.connected);
    const api = await apiToken(hub, { role: 'viewer', project: 'demo' });
    await call(hub, 'GET', `${API}/namespaces/demo/clusters`, api);
    await call(hub, 'GET', `${API}/sites`, api); // 403
    await call(hub, 'GET', `${API}/sites`, `${api.split('.')[0]}.wrongsecretwrongsecretwrongsecret`); // 401
    await call(hub, 'POST', '/agent/v1/join', hub.adminToken, { token: bootstrap }); // used already
    await call(hub, 'PUT', `${API}/sites/store-0412`, hub.adminToken, 'text/plain body', 'text/plain'); // 415
    const identity = JSON.parse(readFileSync(join(agent.dataDir, 'identity.json'), 'utf8')) as { credential: string };
    const secrets: Record<string, string> = { admin: hub.adminToken, bootstrap, agent: identity.credential, api };
    const log = hub.proc!.stdout + hub.proc!.stderr + agent.proc!.stdout + agent.proc!.stderr;
    expect(log.length).toBeGreaterThan(0);
    const db = Buffer.concat(['hub.db', 'hub.db-wal'].filter((f) => existsSync(join(hub.dataDir, f))).map((f) => readFileSync(join(hub.dataDir, f))));
    for (const [name, token] of Object.entries(secrets)) {
      const secret = token.slice(token.lastIndexOf('.') + 1);
      expect(secret.length, name).toBeGreaterThanOrEqual(16);
      expect(log.includes(secret), `${name} secret in the hub's or the agent's log`).toBe(false);
      expect(db.includes(secret), `${name} secret in hub.db`).toBe(false);
    }
    // The agent's state is owner-only too.
    expect(['state.db', 'identity.json'].map((f) => mode(join(agent!.dataDir, f)))).toEqual(['600', '600']);
  });
});
