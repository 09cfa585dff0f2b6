// The hub process: store, admin API and agent gateway on one HTTPS port. Components start in order and
// stop in reverse; stop() is safe to call in any state. With gateway processes, this process keeps the
// store's only writer and the admin API (on a unix socket they forward to) and they hold the agents.
import { rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { caCertHash, type Agent } from '@outpost/proto';
import pino, { type Logger } from 'pino';
import { createApi } from './api/app.js';
import { ReleaseConditionController } from './controllers/release-condition.js';
import { dataPaths, ensureTicketKeys, loadServingMaterial } from './data-dir.js';
import { storeEvents, storeReads } from './gateway/agent-events.js';
import { createAgentServer } from './gateway/agent-server.js';
import { AgentGateway } from './gateway/gateway.js';
import { GatewayProcesses } from './gateway/gateway-processes.js';
import { Presence } from './gateway/presence.js';
import { resolveHubOptions, type HubOptions, type ResolvedHubOptions } from './hub-options.js';
import { AuditRetention } from './store/audit-retention.js';
import { Store, type StoreChange } from './store/store.js';
import { HUB_VERSION } from './version.js';

export interface RunningHub {
  url: string;
  port: number;
  caHash: string;
  store: Store;
  stop(): Promise<void>;
}

/** Agents whose credential a write revoked or deleted: their connections must go. */
function revokedAgents(changes: readonly StoreChange[]): string[] {
  return changes
    .filter((ch) => ch.object.kind === 'Agent' && (ch.type === 'DELETED' || (ch.object as Agent).spec?.revoked))
    .map((ch) => ch.object.metadata.name ?? '');
}

/** What the hub asks of its agent gateway, whether in this process or spread over several. */
interface GatewayFollower {
  poke(views: Iterable<string>, revision: number): void;
  disconnect(agentId: string): void;
}

/** Every commit pokes the agents whose views it touched and closes the agents it revoked. */
function followStore(store: Store, gateway: GatewayFollower): () => void {
  return store.subscribe((changes, views) => {
    gateway.poke(views, changes.at(-1)?.revision ?? 0);
    for (const agentId of revokedAgents(changes)) gateway.disconnect(agentId);
  });
}

function listen(server: Server | ReturnType<typeof createHttpServer>, ...args: [number, string] | [string]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(args as [number, string]), () => resolve());
  });
}

function closeServer(server: Server | ReturnType<typeof createHttpServer>): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startHub(options: HubOptions, log: Logger = pino({ level: options.logLevel ?? 'info' }, pino.destination(2))): Promise<RunningHub> {
  const opts = resolveHubOptions(options);
  ensureTicketKeys(opts.dataDir);
  const tls = loadServingMaterial(opts.dataDir);
  const store = new Store(dataPaths(opts.dataDir).db, { clock: opts.clock });
  const stops: Array<() => void | Promise<void>> = [() => store.close()];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s();
      } catch (err) {
        log.warn({ err }, 'error while stopping the hub');
      }
    }
  };
  try {
    const controller = new ReleaseConditionController(store);
    controller.resyncAll();
    stops.push(() => controller.stop());

    // After a crash every agent still says connected: nobody is until they dial in again (one UPDATE of
    // the presence table, before any agent can connect).
    const presence = new Presence(store, { clock: opts.clock });
    presence.markAllDisconnected();
    stops.push(() => presence.stop());

    const audit = new AuditRetention(store, { maxAgeMs: opts.auditMaxAgeMs, maxRows: opts.auditMaxRows, clock: opts.clock });
    audit.start();
    stops.push(() => audit.stop());

    const compactor = setInterval(() => store.compact(store.revision() - opts.retainRevisions), 60_000);
    compactor.unref();
    stops.push(() => clearInterval(compactor));

    const api = createApi({ store, presence, clock: opts.clock, caCertPem: tls.caCertPem, version: HUB_VERSION, log });
    const port = opts.gatewayProcesses > 0 ? await serveWithGatewayProcesses(opts, store, presence, api.fetch, stops, log) : await serveInProcess(opts, store, presence, api.fetch, tls, stops, log);
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    return { url: `https://${host}:${port}`, port, caHash: caCertHash(tls.caCertPem), store, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

type Fetch = Parameters<typeof getRequestListener>[0];
type Stops = Array<() => void | Promise<void>>;

/** One process: API and agents on the HTTPS port. */
async function serveInProcess(opts: ResolvedHubOptions, store: Store, presence: Presence, fetch: Fetch, tls: ReturnType<typeof loadServingMaterial>, stops: Stops, log: Logger): Promise<number> {
  const gateway = new AgentGateway({ reads: storeReads(store), events: storeEvents(store, presence), heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, log });
  const unsubscribe = followStore(store, gateway);
  const { server, admission } = createAgentServer(tls, gateway, getRequestListener(fetch), log);
  await listen(server, opts.port, opts.host);
  // Agent sockets first: upgraded connections keep an HTTPS server from closing.
  stops.push(async () => {
    unsubscribe();
    admission.stop();
    for (const { agentId } of gateway.connectedAgents()) presence.disconnected(agentId);
    await gateway.stop();
    await closeServer(server);
  });
  return (server.address() as AddressInfo).port;
}

/** Gateway processes on the HTTPS port; the API here on a unix socket that they forward to. */
async function serveWithGatewayProcesses(opts: ResolvedHubOptions, store: Store, presence: Presence, fetch: Fetch, stops: Stops, log: Logger): Promise<number> {
  const apiSocket = join(opts.dataDir, 'api.sock');
  rmSync(apiSocket, { force: true }); // left by a hub that was killed
  const apiServer = createHttpServer(getRequestListener(fetch));
  // Its only clients are the gateways' pooled connections: never time them out, or a request sent on one
  // just as this side closes it fails with ECONNRESET (a join is not safe to retry).
  apiServer.keepAliveTimeout = 0;
  await listen(apiServer, apiSocket);
  stops.push(async () => {
    await closeServer(apiServer);
    rmSync(apiSocket, { force: true });
  });
  const gateways = new GatewayProcesses({
    count: opts.gatewayProcesses,
    config: { dataDir: opts.dataDir, host: opts.host, port: opts.port, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, logLevel: opts.logLevel, apiSocket, maxConnections: opts.connectionsPerGatewayProcess },
    store,
    presence,
    log,
  });
  const unsubscribe = followStore(store, gateways);
  stops.push(async () => {
    unsubscribe();
    const connected = gateways.connectedAgents();
    await gateways.stop();
    for (const agentId of connected) presence.disconnected(agentId);
  });
  return gateways.start();
}
