// What the agent gateway reads and what it reports, as two narrow interfaces: the gateway runs either
// inside the hub process (reads and writes go straight to the store) or in gateway processes (reads
// from a read-only store, reports to the primary over IPC, which alone writes).
import type { Agent, Status } from '@outpost/proto';
import { authenticateAgent } from '../auth/agent-identity.js';
import type { Store, ViewSync } from '../store/store.js';
import { applyAgentStatus, type StatusRefusal } from './agent-status.js';
import type { ConnectedAgent, Presence } from './presence.js';

export type { ConnectedAgent };

export interface GatewayReads {
  /** The agent an upgrade's Authorization header belongs to, or why it is refused. */
  authenticate(authorization: string | undefined): { agent: Agent } | { refused: string };
  syncView(view: string, since: number): ViewSync;
  revision(): number;
}

/** One connection of one agent; `conn` tells a replaced connection from its successor. */
export interface AgentEvents {
  connected(agentId: string, conn: number, facts: ConnectedAgent): void;
  acked(agentId: string, revision: number): void;
  seen(agentId: string): void;
  disconnected(agentId: string, conn: number): void;
  /** Records a reported Status; `done` gets why it was refused, if it was. */
  status(agentId: string, view: string, status: Status, done: (refused: StatusRefusal | undefined) => void): void;
}

export function storeReads(store: Store): GatewayReads {
  return {
    authenticate: (authorization) => authenticateAgent(store, authorization),
    syncView: (view, since) => store.syncView(view, since),
    revision: () => store.revision(),
  };
}

/** The in-process side: presence batched into the store, statuses written at once. */
export function storeEvents(store: Store, presence: Presence): AgentEvents {
  return {
    connected: (agentId, _conn, facts) => presence.connected(agentId, facts),
    acked: (agentId, revision) => presence.acked(agentId, revision),
    seen: (agentId) => presence.seen(agentId),
    disconnected: (agentId) => presence.disconnected(agentId),
    status: (agentId, view, status, done) => done(applyAgentStatus(store, agentId, view, status)),
  };
}
