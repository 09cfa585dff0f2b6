// The HTTPS server agents dial, the same in the hub process and in each gateway process: the hub's
// certificate and shared ticket keys, new connections held paused in front of TLS until admitted
// (admission.ts), agent WebSocket upgrades to the gateway, every other request to `onRequest` (the admin
// API, or in a gateway process the proxy to it).
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import { AGENT_PATH } from '@outpost/proto';
import { serverTlsOptions, type ServingMaterial } from '../data-dir.js';
import { admitWhenReady } from './admission.js';
import type { AgentGateway } from './gateway.js';
import { refuseUpgrade } from './upgrade-refusal.js';

export function createAgentServer(
  tls: ServingMaterial,
  gateway: AgentGateway,
  onRequest: RequestListener,
  log: { debug(o: object, m: string): void; warn(o: object, m: string): void },
): { server: Server; admission: { stop(): void } } {
  const server = createServer({ ...serverTlsOptions(tls), pauseOnConnect: true }, onRequest);
  server.on('upgrade', (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head)) refuseUpgrade(socket, 404, 'NotFound', `no WebSocket endpoint at ${(req.url ?? '/').slice(0, 200)}; agents connect to ${AGENT_PATH}`);
  });
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  return { server, admission: admitWhenReady(server, log) };
}
