import { once } from 'node:events';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createServingCert } from '@outpost/proto/x509';
import { ApiClient, ApiError, withQuery } from './api-client.js';

describe('withQuery', () => {
  it('sends only what is set, encoded', () => {
    expect(withQuery('/apis/x/sites', {})).toBe('/apis/x/sites');
    expect(withQuery('/apis/x/sites', { labelSelector: undefined, fieldSelector: '' })).toBe('/apis/x/sites');
    expect(withQuery('/apis/x/sites', { watch: 'true', labelSelector: 'tier=edge,region=north', fieldSelector: 'metadata.name!=a b', resourceVersion: '7' })).toBe(
      '/apis/x/sites?watch=true&labelSelector=tier%3Dedge%2Cregion%3Dnorth&fieldSelector=metadata.name%21%3Da+b&resourceVersion=7',
    );
    // @ts-expect-error: a parameter the hub does not know cannot be written
    withQuery('/apis/x/sites', { timeoutSeconds: '5' });
  });
});

describe('ApiClient on a kept-alive connection the server drops', () => {
  // A server that answers each connection's first request and drops the connection when a second one
  // arrives on it: the race a client loses when the hub closes an idle keep-alive socket as it reuses it.
  let server: Server;
  let caPem: string;
  const handled: string[] = [];
  beforeAll(async () => {
    const ca = await createCa('test-ca');
    const serving = await createServingCert(ca, ['127.0.0.1']);
    caPem = ca.certPem;
    const served = new WeakSet<Socket>();
    server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      const socket = req.socket;
      if (served.has(socket)) return void socket.destroy();
      served.add(socket);
      handled.push(req.method ?? '');
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  const client = (): ApiClient => {
    const { port } = server.address() as AddressInfo;
    return new ApiClient({ hub: `https://127.0.0.1:${port}`, token: 't', caCertPem: caPem, httpsAgent: new Agent({ keepAlive: true, maxSockets: 1 }) });
  };

  it('sends a repeatable request again on a fresh connection', async () => {
    const c = client();
    handled.length = 0;
    await c.call('GET', '/version');
    await expect(c.call('GET', '/version')).resolves.toEqual({ ok: true });
    await expect(c.call('PATCH', '/x', { spec: {} })).resolves.toEqual({ ok: true });
    expect(handled).toEqual(['GET', 'GET', 'PATCH']);
  });

  it('sends it again outside the pool, whose other idle sockets may be as stale', async () => {
    const { port } = server.address() as AddressInfo;
    const c = new ApiClient({ hub: `https://127.0.0.1:${port}`, token: 't', caCertPem: caPem, httpsAgent: new Agent({ keepAlive: true, maxSockets: 2 }) });
    handled.length = 0;
    // Two at once leave two idle sockets in the pool, each already used once: both are dropped on reuse.
    await Promise.all([c.call('GET', '/a'), c.call('GET', '/b')]);
    await expect(c.call('GET', '/version')).resolves.toEqual({ ok: true });
    expect(handled).toEqual(['GET', 'GET', 'GET']);
  });

  it('does not repeat a create: the error says the hub could not be reached', async () => {
    const c = client();
    handled.length = 0;
    await c.call('GET', '/version');
    const err = await c.call('POST', '/x', { metadata: { name: 'a' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe('Unreachable');
    expect((err as ApiError).message).toMatch(/cannot reach the hub at https:\/\/127\.0\.0\.1:\d+: (socket hang up|read ECONNRESET)/);
    expect(handled).toEqual(['GET']);
  });
});
