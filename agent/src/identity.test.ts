// The join's HTTPS call over a kept-alive connection that the server closes as the request crosses it:
// sent again once on a fresh connection, and only then. A real HTTPS server on loopback.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCa, createServingCert } from '@outpost/proto/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JoinFailed, redeemToken } from './identity.js';

describe('redeemToken over a kept-alive connection', () => {
  let server: Server;
  let hub: URL;
  let caCertPem: string;
  /** What the server does with a request: answer it, or close its connection unanswered. */
  let drop: (socketRequests: number) => boolean = () => false;
  let requests = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    const ca = await createCa('identity-test-ca');
    const serving = await createServingCert(ca, ['127.0.0.1']);
    caCertPem = ca.certPem;
    const perSocket = new WeakMap<Socket, number>();
    server = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      sockets.add(req.socket);
      req.resume();
      req.on('end', () => {
        if (drop(n)) return void req.socket.destroy();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agentId: `a-${requests}`, credential: 'c', view: 'v' }));
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hub = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends a request the server closed its reused connection under again, on a fresh one', async () => {
    requests = 0;
    drop = () => false;
    await redeemToken(hub, caCertPem, 'id.secret', 'test');
    const socketsBefore = sockets.size;
    // The second request on a connection is dropped, as a hub closing it idle would.
    drop = (socketRequests) => socketRequests === 2;
    const identity = await redeemToken(hub, caCertPem, 'id.secret', 'test');
    expect(identity.agentId).toBe('a-3');
    expect(requests).toBe(3);
    expect(sockets.size).toBe(socketsBefore + 1);
  });

  it('does not send again what failed on a fresh connection', async () => {
    // No kept-alive connection left for this request to reuse (the client sees the close first).
    server.closeAllConnections();
    await new Promise((r) => setTimeout(r, 100));
    requests = 0;
    drop = () => true;
    const err = await redeemToken(hub, caCertPem, 'id.secret', 'test').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinFailed);
    expect((err as JoinFailed).code).toBe('UNREACHABLE');
    expect(requests).toBe(1);
  });

  it('sends again only once', async () => {
    drop = () => false;
    await redeemToken(hub, caCertPem, 'id.secret', 'test');
    requests = 0;
    drop = () => true;
    const err = await redeemToken(hub, caCertPem, 'id.secret', 'test').catch((e: unknown) => e);
    expect((err as JoinFailed).code).toBe('UNREACHABLE');
    expect(requests).toBe(2);
  });
});
