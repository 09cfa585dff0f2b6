// The physical limit to compare against: a bare `ws` echo server behind the same TLS certificate.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const [certPath, keyPath, host = '127.0.0.1'] = process.argv.slice(2);
const server = createServer({ cert: readFileSync(certPath!), key: readFileSync(keyPath!) });
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
server.listen(0, host, () => process.stdout.write(`echo listening on ${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => process.exit(0));
