// The hub process: store, admin API and agent gateway on one HTTPS port. Components start in order and
// stop in reverse; stop() is safe to call in any state.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { createApi } from './api/app.js';
import { ReleaseConditionController } from './controllers/release-condition.js';
import { caCertHash } from './pki/pki.js';
import { dataPaths, loadServingMaterial } from './data-dir.js';
import { AgentGateway } from './gateway/gateway.js';
import { resolveHubOptions, type HubOptions } from './hub-options.js';
import { Store } from './store/store.js';
import { HUB_VERSION } from './version.js';

export interface RunningHub {
  url: string;
  port: number;
  caHash: string;
  store: Store;
  gateway: AgentGateway;
  stop(): Promise<void>;
}

export async function startHub(options: HubOptions, log: Logger = pino({ level: options.logLevel ?? 'info' }, pino.destination(2))): Promise<RunningHub> {
  const opts = resolveHubOptions(options);
  const tls = loadServingMaterial(opts.dataDir);
  const store = new Store(dataPaths(opts.dataDir).db);
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

    const gateway = new AgentGateway({ store, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, log });
    stops.push(() => gateway.stop());

    const compactor = setInterval(() => store.compact(store.revision() - opts.retainRevisions), 60_000);
    compactor.unref();
    stops.push(() => clearInterval(compactor));

    const api = createApi({ store, caCertPem: tls.caCertPem, version: HUB_VERSION, log });
    const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, getRequestListener(api.fetch));
    server.on('upgrade', (req, socket, head) => {
      if (!gateway.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    // Agent sockets first: upgraded connections keep an HTTPS server from closing.
    stops.push(async () => {
      await gateway.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    return { url: `https://${host}:${port}`, port, caHash: caCertHash(tls.caCertPem), store, gateway, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
