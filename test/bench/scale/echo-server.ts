// The physical limit to compare against: a bare `ws` echo server behind the same TLS certificate, spread
// over as many processes (node:cluster, one shared port) as the hub's gateway, so it holds the same N.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const [certPath, keyPath, processes = '1', host = '127.0.0.1'] = process.argv.slice(2);

function serve(): void {
  const server = createServer({ cert: readFileSync(certPath!), key: readFileSync(keyPath!) });
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(0, host, () => {
    const port = (server.address() as { port: number }).port;
    if (cluster.isWorker) process.send?.({ port });
    else process.stdout.write(`echo listening on ${port}\n`);
  });
}

if (Number(processes) > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < Number(processes); i++) {
    cluster.fork().on('message', (m: { port: number }) => {
      if (++listening === Number(processes)) process.stdout.write(`echo listening on ${m.port}\n`);
    });
  }
  // SIGKILL of the primary leaves no orphans: cluster workers exit when their IPC channel closes.
} else {
  serve();
}
process.on('SIGTERM', () => process.exit(0));
