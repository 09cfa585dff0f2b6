// The remote address of an admin API request, for per-address limits. Over TCP it is the socket's peer,
// and a client's own X-Forwarded-For is ignored. On the primary's unix socket (gateway processes, hub.ts)
// only the hub's gateway processes connect, and they set X-Forwarded-For to their client's address.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return 'unknown'; // app.request() in tests
  const peer = incoming.socket.remoteAddress;
  if (peer) return peer;
  const forwarded = incoming.headers['x-forwarded-for'];
  return (typeof forwarded === 'string' && forwarded) || 'unknown';
}
