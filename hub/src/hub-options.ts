// The hub's options: one documented interface, one function that fills defaults and validates.
import { HEARTBEAT_INTERVAL_MS, MAX_FRAME_BYTES } from '@outpost/proto';
import { systemClock, type Clock } from './clock.js';
import { parseDuration } from './duration.js';

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
  /** Audit rows older than this are pruned: a duration such as 30d, 12h or 90m. Default 90d. */
  auditMaxAge?: string;
  /** At most this many audit rows are kept (the newest). Default 1,000,000. */
  auditMaxRows?: number;
  /** Where the hub reads the time. Default the system clock; tests pass a ManualClock. */
  clock?: Clock;
}

/** An option the hub cannot start with; the message names the option and what to pass instead. */
export class HubOptionsError extends Error {
  override readonly name = 'HubOptionsError';
}

export type ResolvedHubOptions = Required<HubOptions> & {
  /** auditMaxAge in milliseconds. */
  auditMaxAgeMs: number;
};

/** Retention below this would prune what an operator is still looking at. */
const MIN_AUDIT_AGE_MS = 60_000;

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
    auditMaxAge: o.auditMaxAge ?? '90d',
    auditMaxRows: o.auditMaxRows ?? 1_000_000,
    clock: o.clock ?? systemClock,
    auditMaxAgeMs: 0,
  };
  if (!r.dataDir) throw new HubOptionsError('the hub needs a data directory (--data DIR, made by `outpost hub init`)');
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) throw new HubOptionsError(`port ${r.port} is not a TCP port (0-65535)`);
  if (r.heartbeatIntervalMs < 100) throw new HubOptionsError(`heartbeat interval ${r.heartbeatIntervalMs} ms is too short (at least 100 ms)`);
  if (r.maxFrameBytes < 64 * 1024) throw new HubOptionsError(`max frame size ${r.maxFrameBytes} is too small (at least 64 KiB)`);
  if (!Number.isInteger(r.gatewayProcesses) || r.gatewayProcesses < 0 || r.gatewayProcesses > 64) throw new HubOptionsError(`gateway processes ${r.gatewayProcesses} is not a whole number from 0 to 64`);
  if (!Number.isInteger(r.connectionsPerGatewayProcess) || r.connectionsPerGatewayProcess < 20) throw new HubOptionsError(`connections per gateway process ${r.connectionsPerGatewayProcess} is not a whole number of at least 20`);
  const age = parseDuration(r.auditMaxAge);
  if (age === undefined) throw new HubOptionsError(`audit max age "${r.auditMaxAge}" is not a duration: write a whole number and s, m, h or d, such as --audit-max-age 30d`);
  if (age < MIN_AUDIT_AGE_MS) throw new HubOptionsError(`audit max age ${r.auditMaxAge} is too short (at least 1m); pass --audit-max-age 30d or similar`);
  r.auditMaxAgeMs = age;
  if (!Number.isInteger(r.auditMaxRows) || r.auditMaxRows < 1) throw new HubOptionsError(`audit max rows ${r.auditMaxRows} is not a whole number of at least 1 (--audit-max-rows N)`);
  return r;
}
