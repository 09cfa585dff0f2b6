// The baselines the hub is compared with, on bare servers that do the same work without the hub's logic:
// - the physical limit: a bare `ws` echo (text frames are echoed), behind the same TLS certificate;
// - a change's full work: an HTTPS write (parsed, committed to SQLite in WAL mode as the hub's store
//   does), a Poke to the agent holding the object, its Sync answered with Changes (the object read back
//   from SQLite and encoded as the hub encodes it), and its Ack recorded with this server's clock.
// Spread over as many processes (node:cluster, one shared port) as the hub's gateway, so it holds the same
// N: the primary takes the writes, as the hub's does, and tells the workers to poke; with 0 it does both.
//   args: CERT KEY PROCESSES DB FIRST_REVISION [HOST]
// Prints "baseline listening on WS_PORT api API_PORT". GET /acks on the API port answers every Ack as
// [agent, revision, epochMs] from every process.
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { encodeEnvelope, decodeEnvelope, resourceToWire, type ResourceObject } from '@outpost/proto';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';

const [certPath, keyPath, processesArg = '0', dbPath, firstRevision = '1', host = '127.0.0.1'] = process.argv.slice(2);
const processes = Number(processesArg);
const tls = { cert: readFileSync(certPath!), key: readFileSync(keyPath!) };
const now = (): number => performance.timeOrigin + performance.now();

type Ack = [agent: number, revision: number, at: number];
type ToWorker = { t: 'poke'; agent: number; revision: number } | { t: 'acks'; id: number };
type FromWorker = { t: 'listening'; port: number } | { t: 'acks'; id: number; acks: Ack[] };

function openDb(readonly: boolean): Database.Database {
  const db = new Database(dbPath!, { readonly });
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE IF NOT EXISTS objects (agent INTEGER PRIMARY KEY, revision INTEGER NOT NULL, body TEXT NOT NULL)');
  }
  return db;
}

/** The agents' links of this process: Poke, Sync → Changes, Ack, and echo. */
function serveAgents(onListening: (port: number) => void): { poke(agent: number, revision: number): void; acks: Ack[] } {
  const server: Server = createServer(tls);
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  const links = new Map<number, WebSocket>();
  const acks: Ack[] = [];
  let read: Database.Statement<[number], { revision: number; body: string }> | undefined;
  wss.on('connection', (ws, req) => {
    const agent = Number(new URL(req.url ?? '/', 'https://x').searchParams.get('agent'));
    if (Number.isInteger(agent)) links.set(agent, ws);
    ws.on('close', () => links.get(agent) === ws && links.delete(agent));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.send(data, { binary: false });
      const env = decodeEnvelope(data as Buffer);
      if (env.body === 'sync') {
        // The reader is opened late: the primary made the table after this process started.
        read ??= openDb(true).prepare('SELECT revision, body FROM objects WHERE agent = ?');
        const row = read.get(agent);
        if (!row) return;
        const obj = JSON.parse(row.body) as ResourceObject;
        const ref = { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name, uid: obj.metadata.uid ?? '' };
        ws.send(encodeEnvelope({ changes: { snapshot: false, since: env.sync?.since ?? 0, revision: row.revision, changes: [{ ref, object: resourceToWire(obj, false) }] } }));
      } else if (env.body === 'ack') {
        acks.push([agent, Number(env.ack?.revision ?? 0), now()]);
      }
    });
  });
  server.listen(0, host, () => onListening((server.address() as { port: number }).port));
  return {
    acks,
    poke: (agent, revision) => links.get(agent)?.send(encodeEnvelope({ poke: { revision } })),
  };
}

function primary(): void {
  const db = openDb(false);
  const write = db.prepare<[number, number, string]>('INSERT INTO objects (agent, revision, body) VALUES (?, ?, ?) ON CONFLICT(agent) DO UPDATE SET revision = excluded.revision, body = excluded.body');
  let revision = Number(firstRevision) - 1;
  const workers: Worker[] = [];
  let local: ReturnType<typeof serveAgents> | undefined;
  let wsPort: number | undefined;
  let apiPort: number | undefined;
  const ready = (): void => {
    if (wsPort !== undefined && apiPort !== undefined) process.stdout.write(`baseline listening on ${wsPort} api ${apiPort}\n`);
  };
  let asked = 0;
  const waiting = new Map<number, { left: number; acks: Ack[]; done: (acks: Ack[]) => void }>();
  const api = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const agent = /^\/agents\/(\d+)$/.exec(path)?.[1];
      if (req.method === 'PUT' && agent !== undefined) {
        const obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResourceObject;
        revision++;
        obj.metadata.resourceVersion = String(revision);
        write.run(Number(agent), revision, JSON.stringify(obj));
        if (local) local.poke(Number(agent), revision);
        else for (const w of workers) w.send({ t: 'poke', agent: Number(agent), revision } satisfies ToWorker);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      } else if (req.method === 'GET' && path === '/acks') {
        const answer = (acks: Ack[]): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(acks));
        if (local) return answer(local.acks);
        const id = ++asked;
        waiting.set(id, { left: workers.length, acks: [], done: answer });
        for (const w of workers) w.send({ t: 'acks', id } satisfies ToWorker);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  api.listen(0, host, () => {
    apiPort = (api.address() as { port: number }).port;
    ready();
  });
  if (processes === 0) {
    local = serveAgents((port) => {
      wsPort = port;
      ready();
    });
    return;
  }
  let listening = 0;
  for (let i = 0; i < processes; i++) {
    const w = cluster.fork();
    workers.push(w);
    w.on('message', (m: FromWorker) => {
      if (m.t === 'listening' && ++listening === processes) {
        wsPort = m.port;
        ready();
      } else if (m.t === 'acks') {
        const q = waiting.get(m.id);
        if (!q) return;
        q.acks.push(...m.acks);
        if (--q.left === 0) {
          waiting.delete(m.id);
          q.done(q.acks);
        }
      }
    });
  }
  // SIGKILL of the primary leaves no orphans: cluster workers exit when their IPC channel closes.
}

if (cluster.isPrimary) {
  primary();
} else {
  const agents = serveAgents((port) => process.send?.({ t: 'listening', port } satisfies FromWorker));
  process.on('message', (m: ToWorker) => {
    if (m.t === 'poke') agents.poke(m.agent, m.revision);
    else process.send?.({ t: 'acks', id: m.id, acks: agents.acks } satisfies FromWorker);
  });
}
process.on('SIGTERM', () => process.exit(0));
