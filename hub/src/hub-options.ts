// The hub's options: one documented interface, one function that fills defaults and validates.
import { HEARTBEAT_INTERVAL_MS, MAX_FRAME_BYTES } from '@outpost/proto';

export interface HubOptions {
  /** Directory made by `outpost hub init`: CA, serving certificate, secrets key, hub.db. */
  dataDir: string;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 8443. */
  port?: number;
  /** How often hub and agents exchange heartbeats. Default 15 s. */
  heartbeatIntervalMs?: number;
  /** Frames above this size are refused. Default 4 MiB. */
  maxFrameBytes?: number;
  /** How many revisions of change log to keep for deltas and watches. Default 100,000. */
  retainRevisions?: number;
  /**
   * Agent gateway processes. 0 (default): agents are served inside the hub process. N > 0: N processes
   * share the port and serve agents (and pass API requests to this one), each holding its own sockets,
   * for fleets larger than one process's descriptors or one core's TLS.
   */
  gatewayProcesses?: number;
  /**
   * Connections at which one gateway process stops accepting and leaves new ones to its siblings; it
   * accepts again below 95 % of this. Keep it under the process's descriptor limit (`ulimit -n`), with
   * room for ~1,000 more: what the kernel had already queued for it. Default 18,000.
   */
  connectionsPerGatewayProcess?: number;
  /** pino log level. Default info. */
  logLevel?: string;
}

export type ResolvedHubOptions = Required<HubOptions>;

export function resolveHubOptions(o: HubOptions): ResolvedHubOptions {
  const r: ResolvedHubOptions = {
    dataDir: o.dataDir,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8443,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    maxFrameBytes: o.maxFrameBytes ?? MAX_FRAME_BYTES,
    retainRevisions: o.retainRevisions ?? 100_000,
    gatewayProcesses: o.gatewayProcesses ?? 0,
    connectionsPerGatewayProcess: o.connectionsPerGatewayProcess ?? 18_000,
    logLevel: o.logLevel ?? 'info',
  };
  if (!r.dataDir) throw new Error('the hub needs a data directory (--data DIR, made by `outpost hub init`)');
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) throw new Error(`port ${r.port} is not a TCP port (0-65535)`);
  if (r.heartbeatIntervalMs < 100) throw new Error(`heartbeat interval ${r.heartbeatIntervalMs} ms is too short (at least 100 ms)`);
  if (r.maxFrameBytes < 64 * 1024) throw new Error(`max frame size ${r.maxFrameBytes} is too small (at least 64 KiB)`);
  if (!Number.isInteger(r.gatewayProcesses) || r.gatewayProcesses < 0 || r.gatewayProcesses > 64) throw new Error(`gateway processes ${r.gatewayProcesses} is not a whole number from 0 to 64`);
  if (!Number.isInteger(r.connectionsPerGatewayProcess) || r.connectionsPerGatewayProcess < 20) throw new Error(`connections per gateway process ${r.connectionsPerGatewayProcess} is not a whole number of at least 20`);
  return r;
}
