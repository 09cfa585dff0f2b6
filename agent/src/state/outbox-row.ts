// Reads a status the agent's outbox stored as JSON. A row written before Status carried the kind's own
// status message (fields observedGeneration, phase, conditions, endpoint at the top) is read into the
// typed form, so an agent upgraded with statuses still queued sends them instead of choking on them.
import { reportableKind, type ClusterStatus, type Condition, type HostStatus, type ObjectRef } from '@outpost/proto';
import type { PendingStatus } from './local-state.js';

interface EarlyRow {
  seq?: number;
  ref?: ObjectRef;
  cluster?: ClusterStatus;
  host?: HostStatus;
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
  endpoint?: string;
  finalized?: boolean;
}

/** The status in `body`, or undefined when it is not one (the next Ack sweeps such a row away). */
export function readOutboxRow(body: string): PendingStatus | undefined {
  let row: EarlyRow;
  try {
    row = JSON.parse(body) as EarlyRow;
  } catch {
    return undefined;
  }
  if (!row || typeof row !== 'object' || !row.ref || typeof row.seq !== 'number') return undefined;
  const { seq, ref } = row;
  if (row.finalized === true) return { seq, ref, finalized: true };
  if (row.cluster) return { seq, ref, cluster: row.cluster };
  if (row.host) return { seq, ref, host: row.host };
  const { observedGeneration, phase, conditions, endpoint } = row;
  const common = { ...(observedGeneration ? { observedGeneration } : {}), ...(conditions ? { conditions } : {}) };
  switch (reportableKind(ref.kind ?? '')?.field) {
    case 'cluster':
      return { seq, ref, cluster: { ...common, ...(phase ? { phase } : {}), ...(endpoint ? { endpoint } : {}) } };
    case 'host':
      return { seq, ref, host: common };
    default:
      return undefined;
  }
}
