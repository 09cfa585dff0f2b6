// The HTTPS server agents dial, the same in the hub process and in each gateway process: the hub's
// certificate and shared ticket keys, new connections counted against the connection limits
// (connection-guard.ts) and then held paused in front of TLS until admitted (admission.ts), agent
// WebSocket upgrades to the gateway, every other request to `onRequest` (the admin API, or in a gateway
// process the proxy to it).
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import { AGENT_PATH, processLoopStall } from '@outpost/proto';
import { RateLimitedWarning } from '../rate-limited-warning.js';
import { serverTlsOptions, type ServingMaterial } from '../data-dir.js';
import { admitWhenReady } from './admission.js';
import { guardConnections, type ConnectionCounts, type ConnectionGuardOptions } from './connection-guard.js';
import type { AgentGateway } from './gateway.js';
import { CompletionRate, shedVerdict } from './shedding.js';
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
  // Load shedding (shedding.ts): while the loop lags past its bound, new agent upgrades are refused
  // with a Retry-After sized to the backlog, before any session work, so the sessions already here keep
  // their heartbeats. Only agents' upgrades: the admin API and joins are few and answer operators.
  const stall = processLoopStall();
  const upgrades = new CompletionRate(performance.now());
  server.on('upgrade', (req, socket, head) => {
    guard.spoke(req);
    const now = performance.now();
    if (req.url?.startsWith(AGENT_PATH)) {
      const verdict = shedVerdict({ lagMs: stall.stalledWithin(now - 1000, now), backlog: admission.backlog(), completedPerSecond: upgrades.rate(now) });
      if (verdict.shed) {
        shed.note({ retryAfterSeconds: verdict.retryAfterSeconds, backlog: admission.backlog() });
        return refuseUpgrade(socket, 503, 'ServiceUnavailable', `the hub is overloaded; the agent connects again after ${verdict.retryAfterSeconds} s by itself`, verdict.retryAfterSeconds);
      }
      upgrades.completed();
    }
    if (!gateway.handleUpgrade(req, socket, head)) return refuseUpgrade(socket, 404, 'NotFound', `no WebSocket endpoint at ${(req.url ?? '/').slice(0, 200)}; agents connect to ${AGENT_PATH}`);
    // The gateway refuses an upgrade (bad credential, shutting down) by ending the socket at once, and
    // accepts one synchronously (ws' handleUpgrade): a socket still open is an authenticated agent's.
    if (!socket.writableEnded && !socket.destroyed) guard.authenticated(req);
  });
  server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
  const admission = admitWhenReady(server, log);
  const guard = guardConnections(server, limits, log);
  const shed = new RateLimitedWarning(log, 'overloaded: refused agent upgrades with 503 and Retry-After (they come back then, with jitter)');
  return {
    server,
    admission: {
      stop: () => {
        guard.stop();
        shed.stop();
        admission.stop();
      },
    },
    connections: () => guard.counts(),
  };
}
