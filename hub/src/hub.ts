// The hub process: store, controllers, presence, admin API and agent gateway on one HTTPS port, as
// components with one lifecycle: started in order, stopped in reverse with errors gathered; stop() is safe
// to call in any state. With gateway processes, this process keeps the
// store's only writer and the admin API (on a unix socket they forward to) and they hold the agents.
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { caCertHash, component, ComponentManager, ComponentStartError, type Agent, type Component, type NamedHealth, type Release } from '@outpost/proto';
import pino, { type Logger } from 'pino';
import { createApi } from './api/app.js';
import { BlobGc } from './artifacts/blob-gc.js';
import { BlobStore } from './artifacts/blob-store.js';
import { BundleWriter } from './bundles/bundle-writer.js';
import { bundleKeyPem, ensureBundleKey, loadBundleKey } from './bundles/signing-key.js';
import { apiTokenCheck } from './auth/api-token-check.js';
import { LOG_REDACTION } from './auth/log-redaction.js';
import { ReleaseConditionController } from './controllers/release-condition.js';
import { dataPaths, ensureTicketKeys, loadServingMaterial, secureDataDir } from './data-dir.js';
import { recordedEvents } from './gateway/session-record.js';
import { storeEvents, storeReads } from './gateway/agent-events.js';
import { createAgentServer } from './gateway/agent-server.js';
import type { ConnectionCounts } from './gateway/connection-guard.js';
import { AgentGateway } from './gateway/gateway.js';
import { GatewayProcesses } from './gateway/gateway-processes.js';
import { Presence } from './gateway/presence.js';
import { resolveHubOptions, type HubOptions, type ResolvedHubOptions } from './hub-options.js';
import { readSecretsKey } from './auth/seal.js';
import { storeSecrets, type SecretsSource } from './gateway/cluster-secrets.js';
import { ClusterPki } from './pki/cluster-pki.js';
import { AuditRetention } from './store/audit-retention.js';
import { Store, type StoreChange } from './store/store.js';
import { HUB_VERSION } from './version.js';

export interface RunningHub {
  url: string;
  port: number;
  caHash: string;
  store: Store;
  /** Each component's health, in start order (also served at /healthz?verbose). */
  health(): NamedHealth[];
  /** Idempotent: stops every component in reverse order, each even when one before it failed. */
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

export async function startHub(options: HubOptions, log: Logger = pino({ level: options.logLevel ?? 'info', redact: LOG_REDACTION }, pino.destination(2))): Promise<RunningHub> {
  const opts = resolveHubOptions(options);
  ensureTicketKeys(opts.dataDir);
  secureDataDir(opts.dataDir);
  const tls = loadServingMaterial(opts.dataDir);
  if (ensureBundleKey(dataPaths(opts.dataDir).bundleKey)) log.warn({ path: dataPaths(opts.dataDir).bundleKey }, 'made the bundle signing key this hub directory lacked (it predates bundles); agents pin it at their next connection');
  const bundleKey = loadBundleKey(dataPaths(opts.dataDir).bundleKey);
  // Read before the store opens: a hub without its sealing key must not start (nor leave hub.db open).
  const secretsKey = readSecretsKey(dataPaths(opts.dataDir).secretsKey);
  const store = new Store(dataPaths(opts.dataDir).db, { clock: opts.clock });
  const controller = new ReleaseConditionController(store);
  const presence = new Presence(store, { clock: opts.clock });
  const audit = new AuditRetention(store, { maxAgeMs: opts.auditMaxAgeMs, maxRows: opts.auditMaxRows, clock: opts.clock });
  const clusterPki = new ClusterPki(store, secretsKey, { clock: opts.clock });
  const components = new ComponentManager();
  const blobStore = new BlobStore(dataPaths(opts.dataDir).blobs);
  const blobGc = new BlobGc({
    blobs: blobStore,
    releases: () => store.list<Release>('Release'),
    graceMs: opts.blobGcGraceMs,
    everyMs: opts.blobGcIntervalMs,
    clock: opts.clock,
    log,
    audit: (actor, rows) => store.transaction(() => {
      for (const r of rows) store.recordAudit({ actor }, r.verb, { kind: 'Blob', namespace: '', name: r.name });
    }),
  });
  const blobs = { blobs: blobStore, maxUploadBytes: opts.maxUploadBytes, log, gc: blobGc };
  const bundles = { writer: new BundleWriter({ store, blobDir: dataPaths(opts.dataDir).blobs, hold: (digests) => blobStore.hold(digests), key: bundleKey, caCertPem: tls.caCertPem, caKeyPem: readFileSync(dataPaths(opts.dataDir).caKey, 'utf8'), version: HUB_VERSION, pki: clusterPki }), publicKeyPem: bundleKey.publicKeyPem };
  const api = createApi({ store, presence, clusterPki, blobs, bundles, clock: opts.clock, caCertPem: tls.caCertPem, version: HUB_VERSION, log, health: () => components.health(), maxFailedJoinsPerMinute: opts.maxFailedJoinsPerMinute, watchLimits: { minTimeoutMs: opts.minRequestTimeoutMs } });
  let compactor: NodeJS.Timeout | undefined;
  let unhookPki: (() => void) | undefined;
  let unhookGc: (() => void) | undefined;
  components
    .add(component({ name: 'store', stop: () => store.close(), health: () => ({ ok: true, message: `revision ${store.revision()}` }) }))
    .add(component({ name: 'cluster-pki', start: () => void (unhookPki = clusterPki.start()), stop: () => unhookPki?.() }))
    .add(component({ name: 'release-controller', start: () => controller.resyncAll(), stop: () => controller.stop() }))
    // After a crash every agent still says connected: nobody is until they dial in again (one UPDATE of
    // the presence table, before any agent can connect).
    .add(component({ name: 'presence', start: () => {
      presence.markAllDisconnected();
    }, stop: () => presence.stop() }))
    .add(component({ name: 'audit-retention', start: () => audit.start(), stop: () => audit.stop() }))
    // A Release deleted, or its artifact list changed, may leave blobs no Release lists: a sweep soon after.
    .add(component({
      name: 'blob-gc',
      start: () => {
        unhookGc = store.subscribe((changes) => {
          if (changes.some((ch) => ch.object.kind === 'Release' && ch.type !== 'ADDED')) blobGc.releasesChanged();
        });
        blobGc.start();
      },
      stop: () => {
        unhookGc?.();
        blobGc.stop();
      },
    }))
    .add(component({
      name: 'compactor',
      start: () => void (compactor = setInterval(() => store.compact(store.revision() - opts.retainRevisions), 60_000).unref()),
      stop: () => clearInterval(compactor),
    }));
  log.info({ ...connectionLimits(opts), descriptorLimit: opts.descriptorLimit, maxFailedJoinsPerMinute: opts.maxFailedJoinsPerMinute }, 'connection limits (each process that serves the port)');
  const secrets = storeSecrets(store, clusterPki, log);
  const served = opts.gatewayProcesses > 0 ? gatewayProcessesServer(opts, store, presence, secrets, api.fetch, log) : inProcessServer(opts, store, presence, secrets, api.fetch, tls, log);
  for (const c of served.components) components.add(c);
  try {
    await components.start();
  } catch (err) {
    // A failed start has stopped what it started; the store is the first component, so it is closed too.
    throw err instanceof ComponentStartError && err.cause instanceof Error ? err.cause : err;
  }
  const port = served.port();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `https://${host}:${port}`,
    port,
    caHash: caCertHash(tls.caCertPem),
    store,
    health: () => components.health(),
    stop: () => components.stop().catch((err: unknown) => log.warn({ err }, 'error while stopping the hub')),
  };
}

type Fetch = Parameters<typeof getRequestListener>[0];

/** The serving components, and the port they listen on once started. */
interface Served {
  components: Component[];
  port(): number;
}

/** The connection limits of each process that serves the HTTPS port. */
function connectionLimits(opts: ResolvedHubOptions): { maxConnections: number; maxUnauthenticated: number; maxUnauthenticatedPerAddress: number; handshakeTimeoutMs: number } {
  return { maxConnections: opts.maxConnections, maxUnauthenticated: opts.maxUnauthenticatedConnections, maxUnauthenticatedPerAddress: opts.maxUnauthenticatedPerAddress, handshakeTimeoutMs: opts.handshakeTimeoutMs };
}

function describeConnections(c: ConnectionCounts): string {
  return `${c.connections} of ${c.maxConnections} connections, ${c.unauthenticated} of ${c.maxUnauthenticated} unauthenticated`;
}

/** One process: API and agents on the HTTPS port. */
function inProcessServer(opts: ResolvedHubOptions, store: Store, presence: Presence, secrets: SecretsSource, fetch: Fetch, tls: ReturnType<typeof loadServingMaterial>, log: Logger): Served {
  const gateway = new AgentGateway({ reads: storeReads(store), events: recordedEvents(storeEvents(store, presence)), secrets, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, log, bundleKey: bundleKeyPem(opts.dataDir) });
  const { server, admission, connections } = createAgentServer(tls, gateway, getRequestListener(fetch), log, { ...connectionLimits(opts), trustsAuthorization: apiTokenCheck(store, opts.clock) });
  let unsubscribe: (() => void) | undefined;
  const https = component({
    name: 'https',
    start: async () => {
      unsubscribe = followStore(store, gateway);
      await listen(server, opts.port, opts.host);
    },
    // Agent sockets first: upgraded connections keep an HTTPS server from closing.
    stop: async () => {
      unsubscribe?.();
      admission.stop();
      for (const { agentId } of gateway.connectedAgents()) presence.disconnected(agentId);
      await gateway.stop();
      await closeServer(server);
    },
    health: () => ({ ok: server.listening, message: `${gateway.size} agents connected; ${describeConnections(connections())}` }),
  });
  return { components: [https], port: () => (server.address() as AddressInfo).port };
}

/** Gateway processes on the HTTPS port; the API here on a unix socket that they forward to. */
function gatewayProcessesServer(opts: ResolvedHubOptions, store: Store, presence: Presence, secrets: SecretsSource, fetch: Fetch, log: Logger): Served {
  const apiSocket = join(opts.dataDir, 'api.sock');
  const apiServer = createHttpServer(getRequestListener(fetch));
  // Its only clients are the gateways' pooled connections: never time them out, or a request sent on one
  // just as this side closes it fails with ECONNRESET (a join is not safe to retry).
  apiServer.keepAliveTimeout = 0;
  const gateways = new GatewayProcesses({
    count: opts.gatewayProcesses,
    config: { dataDir: opts.dataDir, host: opts.host, port: opts.port, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, logLevel: opts.logLevel, apiSocket, maxConnections: opts.connectionsPerGatewayProcess, limits: connectionLimits(opts) },
    store,
    presence,
    secrets,
    log,
  });
  let port = 0;
  let unsubscribe: (() => void) | undefined;
  const api = component({
    name: 'api-socket',
    start: async () => {
      rmSync(apiSocket, { force: true }); // left by a hub that was killed
      await listen(apiServer, apiSocket);
    },
    stop: async () => {
      await closeServer(apiServer);
      rmSync(apiSocket, { force: true });
    },
    health: () => ({ ok: apiServer.listening }),
  });
  const processes = component({
    name: 'gateway-processes',
    start: async () => {
      unsubscribe = followStore(store, gateways);
      port = await gateways.start();
    },
    stop: async () => {
      unsubscribe?.();
      const connected = gateways.connectedAgents();
      await gateways.stop();
      for (const agentId of connected) presence.disconnected(agentId);
    },
  });
  return { components: [api, processes], port: () => port };
}
