// In a gateway process, every request that is not an agent WebSocket goes to the primary's admin API
// (joins included: the primary alone writes). Streams both ways, so watches work through it.
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { statusBody } from '@outpost/proto';

/** Per-connection headers of this hop, not of the request. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

export function apiProxy(socketPath: string): (req: IncomingMessage, res: ServerResponse) => void {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return (req, res) => {
    // Not the client's hop headers either: its "Connection: close" would close the pooled connection
    // to the primary under the next request sent on it (EPIPE, answered 503).
    const headers: Record<string, string | string[]> = { 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && k !== 'x-forwarded-for') headers[k] = v;
    let done = false;
    const up = request({ socketPath, agent, method: req.method, path: req.url, headers }, (r) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = v;
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
      r.on('end', () => (done = true));
    });
    up.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      const body = statusBody(503, 'ServiceUnavailable', `the hub's primary process is not answering (${err.message}); retry shortly`);
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    // A client that goes away (a watch closed) ends its upstream request too.
    res.on('close', () => {
      if (!done) up.destroy();
    });
    req.pipe(up);
  };
}
