// The hub's options: one documented interface, one function that fills defaults and validates.
import { ByteSizeError, HEARTBEAT_INTERVAL_MS, MAX_FRAME_BYTES, parseByteSize } from '@outpost/proto';
import { systemClock, type Clock } from './clock.js';
import { descriptorLimit } from './descriptor-limit.js';
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
   * accepts again below 95 % of this. Keep it under maxConnections, with room for what the kernel had
   * already queued for it. Default: maxConnections less a tenth (at most 1,000), at most 18,000.
   */
  connectionsPerGatewayProcess?: number;
  /**
   * Connections one process holds at most (each gateway process its own); past it, new ones are closed
   * at accept. Default: the descriptor limit (`ulimit -n`) less 5 % of it (at least 64, at most 1,000),
   * kept for the database, logs and the hub's own sockets.
   */
  maxConnections?: number;
  /**
   * Of those, connections that have not yet shown a credential (an agent's, or an admin API token): the
   * rest stay for connected agents and admin clients, whatever an attacker holds open. When full, a
   * newcomer takes the place of the oldest connection silent for a second. Default: half of maxConnections.
   */
  maxUnauthenticatedConnections?: number;
  /** Unauthenticated connections from one remote address (per process). Default: a quarter of maxUnauthenticatedConnections. */
  maxUnauthenticatedPerAddress?: number;
  /** A connection must finish TLS and send its first request within this, or is closed: a duration such as 10s. Default 10s. */
  handshakeTimeout?: string;
  /**
   * Failed joins (wrong, used or expired bootstrap tokens) one remote address may make per minute: a burst
   * of this many, then one every 60/N s; past it the join endpoint answers 429 with Retry-After. Default 10.
   */
  maxFailedJoinsPerMinute?: number;
  /**
   * A watch that names no timeoutSeconds ends after between this and twice this (randomised, so a fleet of
   * watchers does not come back at once), as kube-apiserver's --min-request-timeout: clients resume from
   * the last resourceVersion they saw. A duration such as 30m. Default 30m.
   */
  minRequestTimeout?: string;
  /** pino log level. Default info. */
  logLevel?: string;
  /** Audit rows older than this are pruned: a duration such as 30d, 12h or 90m. Default 90d. */
  auditMaxAge?: string;
  /** At most this many audit rows are kept (the newest). Default 1,000,000. */
  auditMaxRows?: number;
  /** Where the hub reads the time. Default the system clock; tests pass a ManualClock. */
  clock?: Clock;
  /** One artifact upload (`outpost release import`) may be at most this large: a size such as 8GiB. Default 8GiB. */
  maxUploadSize?: string;
  /**
   * A blob no Release lists is removed once its file is older than this (artifacts/blob-gc.ts): the time
   * `outpost release import` has from uploading to creating its Release. A duration such as 24h. Default 24h.
   */
  blobGcGrace?: string;
  /** How often the hub sweeps its content store for such blobs: a duration such as 1h. Default 1h. */
  blobGcInterval?: string;
}

/** An option the hub cannot start with; the message names the option and what to pass instead. */
export class HubOptionsError extends Error {
  override readonly name = 'HubOptionsError';
}

export type ResolvedHubOptions = Required<HubOptions> & {
  /** auditMaxAge in milliseconds. */
  auditMaxAgeMs: number;
  /** handshakeTimeout in milliseconds. */
  handshakeTimeoutMs: number;
  /** minRequestTimeout in milliseconds. */
  minRequestTimeoutMs: number;
  /** maxUploadSize in bytes. */
  maxUploadBytes: number;
  /** blobGcGrace and blobGcInterval in milliseconds. */
  blobGcGraceMs: number;
  blobGcIntervalMs: number;
  /** The descriptor limit the connection limits' defaults were derived from. */
  descriptorLimit: number;
};

/** Descriptors kept at least for the hub's database, logs, IPC and the sockets it opens itself. */
const MIN_RESERVED_DESCRIPTORS = 64;

/** maxConnections' default for a process allowed `descriptors` open files. */
export function defaultMaxConnections(descriptors: number): number {
  return Math.max(1, descriptors - Math.min(1000, Math.max(MIN_RESERVED_DESCRIPTORS, Math.ceil(descriptors * 0.05))));
}

/** A handshake timeout outside this would refuse slow links, or give idle sockets minutes. */
const HANDSHAKE_TIMEOUT_RANGE_MS = [1000, 120_000] as const;

/** Retention below this would prune what an operator is still looking at. */
const MIN_AUDIT_AGE_MS = 60_000;

/** `descriptors` is the process's descriptor limit (`ulimit -n`), read from the system unless given. */
export function resolveHubOptions(o: HubOptions, descriptors = descriptorLimit()): ResolvedHubOptions {
  const maxConnections = o.maxConnections ?? defaultMaxConnections(descriptors);
  const maxUnauthenticatedConnections = o.maxUnauthenticatedConnections ?? Math.max(1, Math.floor(maxConnections / 2));
  const r: ResolvedHubOptions = {
    dataDir: o.dataDir,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 8443,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    maxFrameBytes: o.maxFrameBytes ?? MAX_FRAME_BYTES,
    retainRevisions: o.retainRevisions ?? 100_000,
    gatewayProcesses: o.gatewayProcesses ?? 0,
    connectionsPerGatewayProcess: o.connectionsPerGatewayProcess ?? Math.max(20, Math.min(18_000, maxConnections - Math.min(1000, Math.floor(maxConnections / 10)))),
    maxConnections,
    maxUnauthenticatedConnections,
    maxUnauthenticatedPerAddress: o.maxUnauthenticatedPerAddress ?? Math.max(1, Math.floor(maxUnauthenticatedConnections / 4)),
    handshakeTimeout: o.handshakeTimeout ?? '10s',
    maxFailedJoinsPerMinute: o.maxFailedJoinsPerMinute ?? 10,
    minRequestTimeout: o.minRequestTimeout ?? '30m',
    logLevel: o.logLevel ?? 'info',
    auditMaxAge: o.auditMaxAge ?? '90d',
    auditMaxRows: o.auditMaxRows ?? 1_000_000,
    clock: o.clock ?? systemClock,
    maxUploadSize: o.maxUploadSize ?? '8GiB',
    maxUploadBytes: 0,
    blobGcGrace: o.blobGcGrace ?? '24h',
    blobGcInterval: o.blobGcInterval ?? '1h',
    blobGcGraceMs: 0,
    blobGcIntervalMs: 0,
    auditMaxAgeMs: 0,
    handshakeTimeoutMs: 0,
    minRequestTimeoutMs: 0,
    descriptorLimit: descriptors,
  };
  if (!r.dataDir) throw new HubOptionsError('the hub needs a data directory (--data DIR, made by `outpost hub init`)');
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) throw new HubOptionsError(`port ${r.port} is not a TCP port (0-65535)`);
  if (r.heartbeatIntervalMs < 100) throw new HubOptionsError(`heartbeat interval ${r.heartbeatIntervalMs} ms is too short (at least 100 ms)`);
  if (r.maxFrameBytes < 64 * 1024) throw new HubOptionsError(`max frame size ${r.maxFrameBytes} is too small (at least 64 KiB)`);
  if (!Number.isInteger(r.gatewayProcesses) || r.gatewayProcesses < 0 || r.gatewayProcesses > 64) throw new HubOptionsError(`gateway processes ${r.gatewayProcesses} is not a whole number from 0 to 64`);
  if (!Number.isInteger(r.connectionsPerGatewayProcess) || r.connectionsPerGatewayProcess < 20) throw new HubOptionsError(`connections per gateway process ${r.connectionsPerGatewayProcess} is not a whole number of at least 20`);
  const whole = (n: number, min: number): boolean => Number.isInteger(n) && n >= min;
  if (!whole(r.maxConnections, 1)) throw new HubOptionsError(`max connections ${r.maxConnections} is not a whole number of at least 1 (--max-connections N)`);
  // Descriptors that run out fail silently (libuv closes what it cannot accept): keep some for the hub.
  if (r.maxConnections > descriptors - MIN_RESERVED_DESCRIPTORS) throw new HubOptionsError(`max connections ${r.maxConnections} leaves less than ${MIN_RESERVED_DESCRIPTORS} of this process's descriptor limit of ${descriptors} for its database, logs and own sockets, so descriptors would run out first: raise \`ulimit -n\` or lower --max-connections`);
  if (!whole(r.maxUnauthenticatedConnections, 1) || r.maxUnauthenticatedConnections > r.maxConnections) throw new HubOptionsError(`max unauthenticated connections ${r.maxUnauthenticatedConnections} is not a whole number from 1 to max connections (${r.maxConnections}) (--max-unauthenticated-connections N)`);
  if (!whole(r.maxUnauthenticatedPerAddress, 1) || r.maxUnauthenticatedPerAddress > r.maxUnauthenticatedConnections) throw new HubOptionsError(`max unauthenticated connections per address ${r.maxUnauthenticatedPerAddress} is not a whole number from 1 to max unauthenticated connections (${r.maxUnauthenticatedConnections}) (--max-unauthenticated-per-address N)`);
  if (r.gatewayProcesses > 0 && r.connectionsPerGatewayProcess > r.maxConnections) throw new HubOptionsError(`connections per gateway process ${r.connectionsPerGatewayProcess} is above max connections ${r.maxConnections}: a full gateway process would refuse connections instead of leaving them to the others; lower --connections-per-gateway-process`);
  const handshake = parseDuration(r.handshakeTimeout);
  if (handshake === undefined || handshake < HANDSHAKE_TIMEOUT_RANGE_MS[0] || handshake > HANDSHAKE_TIMEOUT_RANGE_MS[1]) throw new HubOptionsError(`handshake timeout "${r.handshakeTimeout}" is not a duration from 1s to 2m, such as --handshake-timeout 10s`);
  r.handshakeTimeoutMs = handshake;
  if (!whole(r.maxFailedJoinsPerMinute, 1)) throw new HubOptionsError(`max failed joins per minute ${r.maxFailedJoinsPerMinute} is not a whole number of at least 1 (--max-failed-joins-per-minute N)`);
  const watchLifetime = parseDuration(r.minRequestTimeout);
  if (watchLifetime === undefined || watchLifetime < 1000 || watchLifetime > 24 * 3600_000) throw new HubOptionsError(`min request timeout "${r.minRequestTimeout}" is not a duration from 1s to 24h, such as --min-request-timeout 30m`);
  r.minRequestTimeoutMs = watchLifetime;
  const age = parseDuration(r.auditMaxAge);
  if (age === undefined) throw new HubOptionsError(`audit max age "${r.auditMaxAge}" is not a duration: write a whole number and s, m, h or d, such as --audit-max-age 30d`);
  if (age < MIN_AUDIT_AGE_MS) throw new HubOptionsError(`audit max age ${r.auditMaxAge} is too short (at least 1m); pass --audit-max-age 30d or similar`);
  r.auditMaxAgeMs = age;
  try {
    r.maxUploadBytes = parseByteSize(r.maxUploadSize);
  } catch (err) {
    if (!(err instanceof ByteSizeError)) throw err;
    throw new HubOptionsError(`max upload size: ${err.message} (--max-upload-size 8GiB)`);
  }
  if (r.maxUploadBytes < 1) throw new HubOptionsError('max upload size must be at least 1 byte (--max-upload-size 8GiB)');
  const grace = parseDuration(r.blobGcGrace);
  if (grace === undefined || grace < 60_000) throw new HubOptionsError(`blob GC grace "${r.blobGcGrace}" is not a duration of at least 1m, such as --blob-gc-grace 24h (a shorter one could remove an upload before its Release is made)`);
  r.blobGcGraceMs = grace;
  const every = parseDuration(r.blobGcInterval);
  if (every === undefined || every < 1000) throw new HubOptionsError(`blob GC interval "${r.blobGcInterval}" is not a duration of at least 1s, such as --blob-gc-interval 1h`);
  r.blobGcIntervalMs = every;
  if (!Number.isInteger(r.auditMaxRows) || r.auditMaxRows < 1) throw new HubOptionsError(`audit max rows ${r.auditMaxRows} is not a whole number of at least 1 (--audit-max-rows N)`);
  return r;
}
