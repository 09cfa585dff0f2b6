// Entry of one gateway process (a node:cluster worker of the hub): terminates TLS for its share of the
// connections on the hub's port, runs the agent gateway on a read-only store, reports agent events to
// the primary, and hands every other request to the primary's admin API.
import cluster from 'node:cluster';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { apiTokenCheck } from '../auth/api-token-check.js';
import { systemClock } from '../clock.js';
import { LOG_REDACTION } from '../auth/log-redaction.js';
import { bundleKeyPem } from '../bundles/signing-key.js';
import { loadServingMaterial, dataPaths } from '../data-dir.js';
import { Store } from '../store/store.js';
import type { ClusterSecret } from '@outpost/proto';
import { storeReads, type AgentEvents } from './agent-events.js';
import type { SecretsSource } from './cluster-secrets.js';
import type { StatusRefusal } from './agent-status.js';
import { apiProxy } from './api-proxy.js';
import { AcceptGate } from './accept-gate.js';
import { SeenFilter } from './seen-filter.js';
import { createAgentServer } from './agent-server.js';
import { AgentGateway } from './gateway.js';
import { recordedEvents } from './session-record.js';
import { GATEWAY_CONFIG_ENV, type AgentEvent, type FromGateway, type GatewayProcessConfig, type ToGateway } from './gateway-messages.js';

if (!cluster.isWorker) throw new Error('gateway-process is started by the hub (outpost hub serve --gateway-processes N), not by hand');
const config = JSON.parse(process.env[GATEWAY_CONFIG_ENV] ?? '{}') as GatewayProcessConfig;
const log = pino({ level: config.logLevel, base: { gateway: cluster.worker?.id }, redact: LOG_REDACTION }, pino.destination(2));
const send = (m: FromGateway): void => void process.send?.(m);

// Events go up batched per tick; status replies come back by id.
let outbox: AgentEvent[] = [];
const emit = (e: AgentEvent): void => {
  if (outbox.length === 0) setImmediate(() => {
    const events = outbox;
    outbox = [];
    send({ t: 'events', events });
  });
  outbox.push(e);
};
const statusWaiters = new Map<number, (refused: StatusRefusal | undefined) => void>();
let nextStatus = 1;
// A gateway process never holds secrets.key: it asks the primary for each SecretsRequest (the primary
// checks the view, opens the CAs and audits the delivery, which it must do anyway as the store's only
// writer). This process parses every frame of untrusted agents; with the key in its memory, a flaw in that
// parsing would open every cluster's CAs (the sealed rows are in the read-only store it holds), where
// without it such a flaw reaches at most what its own agents may ask for. Keys cross the IPC pipe in
// memory only, never a file; an agent asks for a cluster's CAs about once, so the round trip is cheap.
const secretsWaiters = new Map<number, (entries: ClusterSecret[]) => void>();
let nextSecrets = 1;
const secrets: SecretsSource = {
  clusterSecrets: (agentId, view, refs, done) => {
    const id = nextSecrets++;
    secretsWaiters.set(id, done);
    emit({ e: 'secrets', id, agentId, view, refs: [...refs] });
  },
};
const seenFilter = new SeenFilter();
const events: AgentEvents = {
  connected: (agentId, conn, facts) => emit({ e: 'connected', agentId, conn, facts }),
  acked: (agentId, revision) => emit({ e: 'acked', agentId, revision }),
  seen: (agentId) => {
    if (seenFilter.pass(agentId, Date.now())) emit({ e: 'seen', agentId });
  },
  disconnected: (agentId, conn) => {
    seenFilter.forget(agentId);
    emit({ e: 'disconnected', agentId, conn });
  },
  status: (agentId, view, status, done) => {
    const id = nextStatus++;
    statusWaiters.set(id, done);
    emit({ e: 'status', id, agentId, view, status });
  },
};

const store = new Store(dataPaths(config.dataDir).db, { readonly: true });
const tls = loadServingMaterial(config.dataDir);
const gateway = new AgentGateway({ reads: storeReads(store), events: recordedEvents(events), secrets, heartbeatIntervalMs: config.heartbeatIntervalMs, maxFrameBytes: config.maxFrameBytes, log, bundleKey: bundleKeyPem(config.dataDir) });
const { server } = createAgentServer(tls, gateway, apiProxy(config.apiSocket), log, { ...config.limits, trustsAuthorization: apiTokenCheck(store, systemClock) });
// A full process leaves accepts to its siblings (accept-gate.ts) instead of refusing at accept. Counted
// at accept, after admission's listener is in place (it takes over the 'connection' listeners before it).
const gate = new AcceptGate(config.maxConnections, Math.floor(config.maxConnections * 0.95));
server.on('connection', (socket: Socket) => {
  if (gate.opened() === 'stop-accepting') stopAccepting();
  socket.once('close', () => {
    if (gate.closed() === 'accept-again') listen();
  });
});
// What the kernel had already queued for this process when it stopped is held to --max-connections by
// the connection guard (agent-server.ts), which logs what it refuses, as node's maxConnections would not.

process.on('message', (m: ToGateway) => {
  switch (m.t) {
    case 'poke':
      return gateway.poke(m.views, m.revision);
    case 'close':
      return gateway.disconnect(m.agentId, m.code, m.reason, m.conn);
    case 'status-done': {
      const done = statusWaiters.get(m.id);
      statusWaiters.delete(m.id);
      return done?.(m.refused);
    }
    case 'secrets-done': {
      const done = secretsWaiters.get(m.id);
      secretsWaiters.delete(m.id);
      return done?.(m.entries);
    }
    case 'stop':
      void gateway.stop().then(() => {
        server.closeAllConnections();
        server.close();
        store.close();
        process.exit(0);
      });
  }
});

let announced = false;
// With the same arguments every time, so node:cluster hands back the listening socket its siblings share
// (only when every process is full and the port was 0 can the port change).
function listen(): void {
  server.listen(config.port, config.host, () => {
    if (announced) return void log.info({ connections: gate.connections }, 'accepting connections again');
    announced = true;
    send({ t: 'listening', port: (server.address() as AddressInfo).port });
  });
}

function stopAccepting(): void {
  log.warn({ connections: gate.connections }, 'gateway process full: its siblings take new connections until some of these close');
  // net's close, not https': that one would also close this server's idle keep-alive connections.
  NetServer.prototype.close.call(server);
}

listen();
