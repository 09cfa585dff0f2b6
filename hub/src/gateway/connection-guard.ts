// Applies ConnectionLimits (connection-limits.ts) to an HTTPS server's sockets: counts each TCP
// connection at accept (before admission and TLS, so a refused one costs no TLS work), closes refused,
// evicted and expired ones, and hears from the server when a connection sends a request or shows a
// credential. Every limit that trips is logged as a rate-limited warning naming the flag that sets it.
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { addressKey } from '../address-key.js';
import { RateLimitedWarning, type WarnLog } from '../rate-limited-warning.js';
import { ConnectionLimits, type ConnectionLimitsOptions, type RefusalReason } from './connection-limits.js';

export interface ConnectionGuardOptions extends ConnectionLimitsOptions {
  /** Whether a request's Authorization header holds a valid admin API token. */
  trustsAuthorization(authorization: string): boolean;
}

export interface ConnectionCounts {
  connections: number;
  unauthenticated: number;
  maxConnections: number;
  maxUnauthenticated: number;
}

export interface ConnectionGuard {
  /** For every HTTP request, before it is handled: it has spoken, and may have shown an API token. */
  request(req: IncomingMessage): void;
  /** For every upgrade, before it is handled: it has spoken (the gateway checks the agent's credential). */
  spoke(req: IncomingMessage): void;
  /** Its agent upgrade was accepted. */
  authenticated(req: IncomingMessage): void;
  counts(): ConnectionCounts;
  stop(): void;
}

const REFUSED: Record<RefusalReason, string> = {
  'per-address': 'refused connections: too many unauthenticated connections from one address (--max-unauthenticated-per-address)',
  unauthenticated: 'refused connections: the unauthenticated connection budget is full of connections under a second old (--max-unauthenticated-connections)',
  total: 'refused connections: this process holds its maximum number of connections (--max-connections)',
};

const peerOf = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;

/**
 * Puts the guard in front of the server's 'connection' listeners (admission's, then TLS's): they run for
 * a socket only once the guard has admitted it. Call after every other 'connection' listener is in place.
 */
export function guardConnections(server: NetServer, o: ConnectionGuardOptions, log: WarnLog): ConnectionGuard {
  const limits = new ConnectionLimits<Socket>(o);
  // The TLS socket a request arrives on is not the TCP socket accepted; both have the same peer.
  const byPeer = new Map<string, Socket>();
  const refused = Object.fromEntries(Object.entries(REFUSED).map(([reason, message]) => [reason, new RateLimitedWarning(log, message)])) as Record<RefusalReason, RateLimitedWarning>;
  const evicted = new RateLimitedWarning(log, 'closed connections silent for a second to make room for new ones: the unauthenticated connection budget is full (--max-unauthenticated-connections)');
  const expired = new RateLimitedWarning(log, `closed connections that sent no request within ${o.handshakeTimeoutMs / 1000} s of connecting (--handshake-timeout)`);
  const acceptFailed = new RateLimitedWarning(log, 'could not accept connections: the process is out of memory or buffers (lower --max-connections)');
  const counts = (): ConnectionCounts => ({ connections: limits.total, unauthenticated: limits.unauthenticated, maxConnections: o.maxConnections, maxUnauthenticated: o.maxUnauthenticated });

  const next = server.listeners('connection');
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const verdict = limits.opened(socket, addressKey(address), performance.now());
    if (!verdict.admitted) {
      refused[verdict.reason].note({ address, ...counts() });
      return void socket.destroy();
    }
    if (verdict.evicted) {
      evicted.note({ address: verdict.evicted.remoteAddress, ...counts() });
      verdict.evicted.destroy();
    }
    const peer = peerOf(socket);
    byPeer.set(peer, socket);
    socket.once('close', () => {
      limits.closed(socket);
      if (byPeer.get(peer) === socket) byPeer.delete(peer);
    });
    for (const l of next) Reflect.apply(l, server, [socket]);
  });
  // An accept error (ENOBUFS, ENOMEM) would be thrown from the server and end the process; here it is
  // said and the server goes on. (Out of descriptors, libuv closes what it cannot accept and says
  // nothing: --max-connections is kept below the descriptor limit for that.) Any other error (listen's)
  // is left as it was: thrown unless someone else listens for it.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.syscall === 'accept') acceptFailed.note({ err: err.code ?? err.message, ...counts() });
    else if (server.listenerCount('error') === 1) throw err;
  });

  const sweep = setInterval(() => {
    for (const socket of limits.expired(performance.now())) {
      expired.note({ address: socket.remoteAddress, ...counts() });
      socket.destroy();
    }
  }, Math.min(1000, o.handshakeTimeoutMs / 4));
  sweep.unref();

  return {
    request(req) {
      const socket = byPeer.get(peerOf(req.socket));
      if (!socket || limits.isAuthenticated(socket)) return;
      limits.spoke(socket);
      const authorization = req.headers.authorization;
      if (authorization && o.trustsAuthorization(authorization)) limits.authenticate(socket);
    },
    spoke(req) {
      const socket = byPeer.get(peerOf(req.socket));
      if (socket) limits.spoke(socket);
    },
    authenticated(req) {
      const socket = byPeer.get(peerOf(req.socket));
      if (socket) limits.authenticate(socket);
    },
    counts,
    stop() {
      clearInterval(sweep);
      for (const w of [...Object.values(refused), evicted, expired, acceptFailed]) w.stop();
    },
  };
}
