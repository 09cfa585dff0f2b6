// npm run bench:reconnect-floor -- [--connections N] [--in-flight C]
// The floor under any hub's reconnect storm on this machine. N WebSocket connections over TLS, with the
// hub's own TLS options, certificate and ticket keys (a real hub data directory), to a bare `ws` server
// in a process of its own that does nothing but echo; one client process, C dials in flight, each
// connection sending one small binary frame and waiting for its echo (as a Hello waits for its Welcome).
// The server is killed -9 and started again with the same ticket keys, and every client reconnects,
// resuming its own TLS session: what a reconnect costs both sides before the hub does any work of its
// own. Each side's CPU comes from its own process (process.cpuUsage, the server's from after it listens).
// Writes test/bench/results/reconnect-floor.json with the µs per reconnect of each side and the seconds
// 100,000 such reconnects take at the least on this machine's cores when both sides share them.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions } from 'node:tls';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureTicketKeys, initDataDir, loadServingMaterial, serverTlsOptions } from '@outpost/hub';
import WebSocket, { WebSocketServer } from 'ws';

type FromServer = { t: 'listening'; port: number; cpuMs: number } | { t: 'cpu'; cpuMs: number };
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (process.argv[2] === 'server') {
  // The bare server: the hub's TLS, a WebSocket upgrade, an echo of binary frames. Nothing else.
  const material = loadServingMaterial(process.argv[3]!);
  const server = createServer(serverTlsOptions(material));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  server.listen(Number(process.argv[4] ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.send!({ t: 'listening', port: typeof address === 'object' && address ? address.port : 0, cpuMs: cpuMs() } satisfies FromServer);
  });
  process.on('message', () => process.send!({ t: 'cpu', cpuMs: cpuMs() } satisfies FromServer));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { connections: { type: 'string', default: '10000' }, 'in-flight': { type: 'string', default: '200' } }, strict: true });
  const n = Number(values.connections);
  const inFlight = Number(values['in-flight']);
  if (!Number.isInteger(n) || n < 1 || n > 18_000) throw new Error(`--connections ${values.connections}: a whole number from 1 to 18,000 (one process holds them all under this machine's descriptor limit)`);
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`--in-flight ${values['in-flight']} is not a positive whole number`);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'outpost-floor-'));
  let server: ChildProcess | undefined;
  try {
    await initDataDir(dir, ['127.0.0.1', 'localhost']);
    ensureTicketKeys(dir);
    const material = loadServingMaterial(dir);
    const self = fileURLToPath(import.meta.url);
    const start = async (port = 0): Promise<{ child: ChildProcess; port: number; startCpuMs: number }> => {
      const child = fork(self, ['server', dir, String(port)], { execArgv: ['--import', 'tsx'] });
      const m = await new Promise<FromServer>((resolve) => child.once('message', resolve));
      if (m.t !== 'listening') throw new Error('the bare server did not start');
      return { child, port: m.port, startCpuMs: m.cpuMs };
    };
    const serverCpu = (child: ChildProcess) =>
      new Promise<number>((resolve) => {
        child.once('message', (m: FromServer) => resolve(m.cpuMs));
        child.send('cpu');
      });

    const first = await start();
    server = first.child;
    const url = `wss://127.0.0.1:${first.port}/`;
    // One context for every dial, as HubLink keeps one per pinned CA.
    const secureContext = createSecureContext({ ca: material.caCertPem });
    const sessions: Array<Buffer | undefined> = new Array(n);
    const sockets: WebSocket[] = new Array(n);
    let resumed = 0;
    const dial = (i: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, {
          perMessageDeflate: false,
          createConnection: ((options: ConnectionOptions) => {
            const socket = tlsConnect({ ...options, secureContext, servername: '', ...(sessions[i] ? { session: sessions[i] } : {}) });
            socket.once('session', (s: Buffer) => (sessions[i] = s));
            socket.once('secureConnect', () => socket.isSessionReused() && resumed++);
            return socket;
          }) as unknown as WebSocket.ClientOptions['createConnection'],
        });
        ws.binaryType = 'nodebuffer';
        ws.once('open', () => ws.send(Buffer.alloc(64)));
        ws.once('message', () => {
          sockets[i] = ws;
          resolve();
        });
        ws.once('error', reject);
      });
    const dialAll = async (): Promise<number> => {
      const started = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < n) await dial(next++);
      }));
      return (performance.now() - started) / 1000;
    };

    log(`${n} connections, full handshakes, ${inFlight} in flight`);
    const fullClient0 = cpuMs();
    const fullServer0 = await serverCpu(server);
    const fullSeconds = await dialAll();
    const fullClientUs = ((cpuMs() - fullClient0) * 1000) / n;
    const fullServerUs = (((await serverCpu(server)) - fullServer0) * 1000) / n;
    log(`  ${fullSeconds.toFixed(1)} s; client ${fullClientUs.toFixed(0)} µs, server ${fullServerUs.toFixed(0)} µs per connection`);

    log(`server kill -9 and started again with the same ticket keys; every client reconnects, resuming (${sessions.filter(Boolean).length} hold a session; ${resumed} resumed so far)`);
    const closed = sockets.map((ws) => new Promise((r) => ws.once('close', r)));
    server.kill('SIGKILL');
    await Promise.all(closed);
    const again = await start(first.port);
    server = again.child;
    resumed = 0;
    const client0 = cpuMs();
    const server0 = await serverCpu(server);
    const seconds = await dialAll();
    const clientUs = ((cpuMs() - client0) * 1000) / n;
    const serverUs = (((await serverCpu(server)) - server0) * 1000) / n;
    const cores = cpus().length;
    const floorSecondsAt100k = (100_000 * (clientUs + serverUs)) / 1e6 / cores;
    log(`  ${seconds.toFixed(1)} s; resumed ${resumed}/${n}; client ${clientUs.toFixed(0)} µs, server ${serverUs.toFixed(0)} µs per reconnect`);
    log(`  100,000 reconnects on ${cores} cores, both sides here: at least ${floorSecondsAt100k.toFixed(0)} s; the server's share alone ${((100_000 * serverUs) / 1e6 / cores).toFixed(0)} s`);
    for (const ws of sockets) ws.terminate();
    const result = {
      command: `npm run bench:reconnect-floor -- ${process.argv.slice(2).join(' ')}`.trim(),
      connections: n,
      inFlight,
      cores,
      node: process.version,
      openssl: process.versions.openssl,
      fullHandshake: { seconds: Math.round(fullSeconds * 10) / 10, clientCpuUsPerConnection: Math.round(fullClientUs), serverCpuUsPerConnection: Math.round(fullServerUs) },
      reconnect: { seconds: Math.round(seconds * 10) / 10, resumedShare: Math.round((resumed / n) * 1000) / 1000, clientCpuUsPerConnection: Math.round(clientUs), serverCpuUsPerConnection: Math.round(serverUs) },
      floorSecondsAt100k: Math.round(floorSecondsAt100k),
      serverOnlySecondsAt100k: Math.round((100_000 * serverUs) / 1e6 / cores),
      measuredAt: new Date().toISOString(),
    };
    const out = fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'reconnect-floor.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${join(out, 'reconnect-floor.json')}`);
  } finally {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
