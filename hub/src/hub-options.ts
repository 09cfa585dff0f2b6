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
    logLevel: o.logLevel ?? 'info',
  };
  if (!r.dataDir) throw new Error('the hub needs a data directory (--data DIR, made by `outpost hub init`)');
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) throw new Error(`port ${r.port} is not a TCP port (0-65535)`);
  if (r.heartbeatIntervalMs < 100) throw new Error(`heartbeat interval ${r.heartbeatIntervalMs} ms is too short (at least 100 ms)`);
  if (r.maxFrameBytes < 64 * 1024) throw new Error(`max frame size ${r.maxFrameBytes} is too small (at least 64 KiB)`);
  return r;
}
