// What the hub's primary and its gateway processes say to each other over cluster IPC. Data flows one
// way for each kind: events up (the primary writes them), pokes and closes down (the gateway sends them).
import type { ClusterSecret, ObjectRef, Status } from '@outpost/proto';
import type { StatusRefusal } from './agent-status.js';
import type { ConnectedAgent } from './agent-events.js';
import type { ConnectionLimitsOptions } from './connection-limits.js';

/** How a gateway process is configured; passed in its environment as JSON. */
export interface GatewayProcessConfig {
  dataDir: string;
  host: string;
  port: number;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  logLevel: string;
  /** Connections at which one gateway process stops accepting (its siblings take new ones). */
  maxConnections: number;
  /** Each gateway process's connection limits (connection-limits.ts). */
  limits: ConnectionLimitsOptions;
  /** The primary's admin API (plain HTTP on a unix socket in the data directory). */
  apiSocket: string;
}

export const GATEWAY_CONFIG_ENV = 'OUTPOST_GATEWAY_PROCESS';

export type AgentEvent =
  | { e: 'connected'; agentId: string; conn: number; facts: ConnectedAgent }
  | { e: 'acked'; agentId: string; revision: number }
  | { e: 'seen'; agentId: string }
  | { e: 'disconnected'; agentId: string; conn: number }
  | { e: 'status'; id: number; agentId: string; view: string; status: Status }
  /** A SecretsRequest within the connection's budget, for the primary to answer (cluster-secrets.ts). */
  | { e: 'secrets'; id: number; agentId: string; view: string; refs: ObjectRef[] };

export type FromGateway =
  | { t: 'listening'; port: number }
  /** Events in the order they happened, batched per tick: one IPC message for a storm of connects. */
  | { t: 'events'; events: AgentEvent[] };

export type ToGateway =
  | { t: 'poke'; views: string[]; revision: number }
  | { t: 'close'; agentId: string; code: number; reason: string; conn?: number }
  | { t: 'status-done'; id: number; refused?: StatusRefusal }
  /** The answer to `secrets` event `id`: one entry per ref, deliveries already audited. */
  | { t: 'secrets-done'; id: number; entries: ClusterSecret[] }
  | { t: 'stop' };
