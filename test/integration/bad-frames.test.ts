// Garbage on the wire closes only the connection that sent it; everyone else is served on.
import { encodeEnvelope, decodeEnvelope, findKind, type Agent } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;

interface Closed {
  code: number;
  frames: ReturnType<typeof decodeEnvelope>[];
}

describe('malformed frames and refused connections', () => {
  let hub: TestHub;
  let healthy: TestAgent;
  let credential: string;
  let agentId: string;

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(project('p'), site('s1'), site('s2'), datacenter('dc1', { site: 's1' }));
    healthy = (await TestAgent.join(hub, { site: 's1' }, 'healthy')).start();
    // a second agent's credential, used by hand below
    const token = await hub.bootstrapToken({ site: 's2' });
    const dir = join(hub.dir, 'raw');
    expect((await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', token, '--ca-hash', hub.caHash, '--data', dir])).code).toBe(0);
    ({ credential, agentId } = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as { credential: string; agentId: string });
    await waitFor('healthy agent connected', async () => (await hub.api().get<Agent>(K('agents'), healthy.agentId)).status?.connected);
  });
  afterAll(async () => {
    await healthy?.stop();
    await hub?.stop();
  });

  function connect(auth = credential): WebSocket {
    return new WebSocket(`wss://127.0.0.1:${hub.port}/agent/v1`, { ca: hub.caCertPem, headers: auth ? { authorization: `Bearer ${auth}` } : {} });
  }

  function exchange(send: (ws: WebSocket) => void): Promise<Closed> {
    return new Promise((resolve, reject) => {
      const ws = connect();
      const frames: Closed['frames'] = [];
      ws.on('open', () => send(ws));
      ws.on('message', (d: Buffer) => frames.push(decodeEnvelope(d)));
      ws.on('close', (code) => resolve({ code, frames }));
      ws.on('error', reject);
      setTimeout(() => reject(new Error('connection was not closed')), 10_000).unref();
    });
  }

  async function stillServing(): Promise<void> {
    expect(healthy.proc?.alive).toBe(true);
    expect((await hub.api().get<Agent>(K('agents'), healthy.agentId)).status?.connected).toBe(true);
    expect(hub.proc?.alive).toBe(true);
  }

  it('closes a connection that sends garbage, with an Error saying why', async () => {
    const r = await exchange((ws) => ws.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
    expect(r.code).toBe(4400);
    expect(r.frames.at(-1)?.error?.code).toBe('MALFORMED_FRAME');
    await stillServing();
  });

  it('closes a connection that sends a text frame, or anything before Hello', async () => {
    expect((await exchange((ws) => ws.send('hello?'))).code).toBe(4400);
    const r = await exchange((ws) => ws.send(encodeEnvelope({ sync: { since: 0 } })));
    expect(r.code).toBe(4400);
    expect(r.frames.at(-1)?.error?.message).toMatch(/expected Hello first/);
    await stillServing();
  });

  it('refuses an oversized frame (1009) without reading it', async () => {
    const r = await exchange((ws) => ws.send(Buffer.alloc(5 * 1024 * 1024, 1)));
    expect(r.code).toBe(1009);
    await stillServing();
  });

  it('refuses a Hello of an unknown major protocol version, saying so', async () => {
    const r = await exchange((ws) => ws.send(encodeEnvelope({ hello: { agentId, protocolMajor: 2, protocolMinor: 0, version: 'x' } })));
    expect(r.code).toBe(4426);
    expect(r.frames.at(-1)?.error).toMatchObject({ code: 'UNSUPPORTED_PROTOCOL', fatal: true });
    expect(r.frames.at(-1)?.error?.message).toMatch(/protocol 2\.0 is not supported/);
  });

  it('accepts a higher minor version and answers Welcome with the view', async () => {
    const frames = await new Promise<ReturnType<typeof decodeEnvelope>[]>((resolve, reject) => {
      const ws = connect();
      const got: ReturnType<typeof decodeEnvelope>[] = [];
      ws.on('open', () => ws.send(encodeEnvelope({ hello: { agentId, protocolMajor: 1, protocolMinor: 9, version: 'x' } })));
      ws.on('message', (d: Buffer) => {
        got.push(decodeEnvelope(d));
        ws.close();
        resolve(got);
      });
      ws.on('error', reject);
    });
    expect(frames[0]?.welcome?.view).toBe('site/s2');
  });

  it('refuses an upgrade without a valid credential with 401 and a reason', async () => {
    for (const auth of ['', `${agentId}.wrong-secret`]) {
      const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        const ws = connect(auth);
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        });
        ws.on('open', () => reject(new Error('upgrade accepted')));
        ws.on('error', () => undefined);
      });
      expect(status.code).toBe(401);
      expect(status.body).toMatch(/credential/);
    }
    await stillServing();
  });

  it('refuses status for objects outside the view', async () => {
    const frames = await new Promise<ReturnType<typeof decodeEnvelope>[]>((resolve, reject) => {
      const ws = connect();
      const got: ReturnType<typeof decodeEnvelope>[] = [];
      ws.on('open', () => {
        ws.send(encodeEnvelope({ hello: { agentId, protocolMajor: 1, version: 'x' } }));
        ws.send(encodeEnvelope({ status: { seq: 1, ref: { kind: 'Datacenter', name: 'dc1' } } }));
      });
      ws.on('message', (d: Buffer) => {
        got.push(decodeEnvelope(d));
        if (got.some((f) => f.ack)) {
          ws.close();
          resolve(got);
        }
      });
      ws.on('error', reject);
    });
    expect(frames.find((f) => f.error)?.error?.code).toBe('NOT_IN_VIEW');
  });
});
