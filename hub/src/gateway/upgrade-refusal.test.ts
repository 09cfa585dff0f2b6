// The agents' upgrade refusals and the admin API's errors are one shape: the Kubernetes Status that
// proto's statusBody builds. The gateway is driven with a socket that records what it is sent.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AGENT_PATH } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../api/app.js';
import { Store } from '../store/store.js';
import { AgentGateway } from './gateway.js';
import { Presence } from './presence.js';

interface RawReply {
  statusLine: string;
  headers: Record<string, string>;
  body: any;
}

/** What the gateway writes on the raw socket for an upgrade of `path`, parsed. */
async function upgrade(gateway: AgentGateway, path = AGENT_PATH): Promise<{ handled: boolean; reply: RawReply }> {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => socket.on('finish', resolve));
  const handled = gateway.handleUpgrade({ url: path, headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage, socket, Buffer.alloc(0));
  if (handled) await ended;
  const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { handled, reply: { statusLine, headers, body: body ? JSON.parse(body) : undefined } };
}

/** The shape of a JSON value: its keys (recursively) and the types of its leaves. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
}

let dir: string;
let store: Store;
let gateway: AgentGateway;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-refusal-'));
  store = new Store(join(dir, 'hub.db'));
  gateway = new AgentGateway({
    reads: { authenticate: () => ({ refused: 'no agent credential; run `outpost-agent join` first' }), syncView: () => ({ snapshot: true, revision: 0, upserts: [], removals: [] }), revision: () => 0 },
    events: { connected: () => undefined, acked: () => undefined, seen: () => undefined, disconnected: () => undefined, status: () => undefined },
    secrets: { clusterSecrets: (_a, _v, refs, done) => done(refs.map((ref) => ({ ref, missing: { reason: 'NOT_IN_VIEW' } }))) },
    heartbeatIntervalMs: 1000,
    maxFrameBytes: 1 << 20,
    log: { info: () => undefined, warn: () => undefined },
  });
});

afterEach(async () => {
  await gateway.stop(0);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('upgrade refusals', () => {
  it("answers an upgrade without a credential with 401 and the admin API's Status shape", async () => {
    const { handled, reply } = await upgrade(gateway);
    expect(handled).toBe(true);
    expect(reply.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(reply.body)));
    expect(reply.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 401, reason: 'Unauthorized', message: 'no agent credential; run `outpost-agent join` first' });

    const app = createApi({ store, presence: new Presence(store), caCertPem: '', version: '0.0.0-test' });
    const res = await app.request('/apis/outpost.dev/v1alpha1/sites');
    const api = (await res.json()) as any;
    expect(res.status).toBe(401);
    expect(shape(reply.body)).toEqual(shape(api));
    expect({ kind: api.kind, apiVersion: api.apiVersion, status: api.status, code: api.code, reason: api.reason }).toEqual({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' });
  });

  it('answers 503 while the hub shuts down, and leaves other paths to its caller', async () => {
    await gateway.stop(0);
    const { reply } = await upgrade(gateway);
    expect(reply.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    expect(reply.body).toMatchObject({ kind: 'Status', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'the hub is shutting down; the agent connects again by itself' });
    expect((await upgrade(gateway, '/elsewhere')).handled).toBe(false);
  });
});
