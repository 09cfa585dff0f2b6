// The hub's own record of each agent session, for the scale bench: when each Welcome was sent and each
// Ack received, by agent, in epoch milliseconds. Reconnect, rollout and change latency are then timed
// from the side being measured, not from the simulated fleet's clocks (which run late when the fleet
// is starved of CPU). Off unless OUTPOST_SESSION_RECORD names a directory: the shipped hub reads the
// variable once and, without it, uses its AgentEvents untouched. With it, SIGUSR2 writes this process's
// record to <dir>/sessions-<pid>.json (written whole, then renamed), outside any hot path.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvents } from './agent-events.js';

export const SESSION_RECORD_ENV = 'OUTPOST_SESSION_RECORD';

export interface SessionRecordFile {
  /** Per agent, when each Welcome went out (the gateway sends it in the tick that reports `connected`). */
  welcomes: Record<string, number[]>;
  /** Per agent, each acked revision and when its Ack arrived. */
  acks: Record<string, Array<[revision: number, at: number]>>;
}

const preciseNow = (): number => performance.timeOrigin + performance.now();

export function recordedEvents(events: AgentEvents, env: NodeJS.ProcessEnv = process.env): AgentEvents {
  const dir = env[SESSION_RECORD_ENV];
  if (!dir) return events;
  const welcomes = new Map<string, number[]>();
  const acks = new Map<string, Array<[number, number]>>();
  process.on('SIGUSR2', () => {
    const file = join(dir, `sessions-${process.pid}.json`);
    const record: SessionRecordFile = { welcomes: Object.fromEntries(welcomes), acks: Object.fromEntries(acks) };
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  });
  return {
    ...events,
    connected: (agentId, conn, facts) => {
      const list = welcomes.get(agentId);
      if (list) list.push(preciseNow());
      else welcomes.set(agentId, [preciseNow()]);
      events.connected(agentId, conn, facts);
    },
    acked: (agentId, revision) => {
      const list = acks.get(agentId);
      if (list) list.push([revision, preciseNow()]);
      else acks.set(agentId, [[revision, preciseNow()]]);
      events.acked(agentId, revision);
    },
  };
}
