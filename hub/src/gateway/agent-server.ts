// The HTTPS server agents dial, the same in the hub process and in each gateway process: the hub's
// certificate and shared ticket keys, new connections counted against the connection limits
// (connection-guard.ts) and then held paused in front of TLS until admitted (admission.ts), agent
// WebSocket upgrades to the gateway, every other request to `onRequest` (the admin API, or in a gateway
// process the proxy to it).
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import { AGENT_PATH } from '@outpost/proto';
import { serverTlsOptions, type ServingMaterial } from '../data-dir.js';
import { admitWhenReady } from './admission.js';
import { guardConnections, type ConnectionCounts, type ConnectionGuardOptions } from './connection-guard.js';
import type { AgentGateway } from './gateway.js';
import { refuseUpgrade } from './upgrade-refusal.js';

export function createAgentServer(
  tls: ServingMaterial,
  gateway: AgentGateway,
  onRequest: RequestListener,
  log: { debug(o: object, m: string): void; warn(o: object, m: string): void },
  limits: ConnectionGuardOptions,
): { server: Server; admission: { stop(): void }; connections(): ConnectionCounts } {
  // The guard's deadline is absolute, from accept to the first request, and closes what trickles bytes
  // to stay alive too. The TLS layer's own handshakeTimeout (an idle timer, 120 s by default) is only a
  // backstop behind it, late enough that the guard closes and reports first.
  const server = createServer({ ...serverTlsOptions(tls), pauseOnConnect: true, handshakeTimeout: 2 * limits.handshakeTimeoutMs }, (req, res) => {
    guard.request(req);
    onRequest(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    guard.spoke(req);
    if (!gateway.handleUpgrade(req, socket, head)) return refuseUpgrade(socket, 404, 'NotFound', `no WebSocket endpoint at ${(req.url ?? '/').slice(0, 200)}; agents connect to ${AGENT_PATH}`);
    // The gateway refuses an upgrade (bad credential, shutting down) by ending the socket at once, and
    // accepts one synchronously (ws' handleUpgrade): a socket still open is an authenticated agent's.
    if (!socket.writableEnded && !socket.destroyed) guard.authenticated(req);
  });
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  const admission = admitWhenReady(server, log);
  const guard = guardConnections(server, limits, log);
  return {
    server,
    admission: {
      stop: () => {
        guard.stop();
        admission.stop();
      },
    },
    connections: () => guard.counts(),
  };
}
