// Writes a Status an agent reported into the object it names. Runs where the store's writer is: in the
// hub process, or in the primary when the gateway is spread over processes.
import { isDeepStrictEqual } from 'node:util';
import {
  checkReportedStatus, ErrorCode, MAX_STATUS_BYTES, MAX_STATUS_CONDITIONS, keyOfRef, parseRfc3339, rfc3339, SchemaError, setCondition,
  type Cluster, type ClusterStatus, type Condition, type HostStatus, type NodeState, type ResourceObject, type Status,
} from '@outpost/proto';
import type { Store } from '../store/store.js';
import { servesDatacenter } from '../store/views.js';
import { releaseAgentFinalizer } from './agent-finalize.js';

/** Why a Status was not recorded: the Error the agent gets before the Ack that still clears its outbox. */
export interface StatusRefusal {
  code: (typeof ErrorCode)[keyof typeof ErrorCode];
  message: string;
}

/**
 * The stored status after a report: the report's fields replace the stored ones (it is the agent's whole
 * observation of the kind's status), and its conditions merge by type into the stored ones, which hold
 * the hub controllers' types too. A condition keeps the time the agent stamped it with (normalised to
 * UTC seconds); one without a time is stamped here.
 */
export function mergeReportedStatus(current: { conditions?: Condition[] | null } | null | undefined, body: ClusterStatus | HostStatus, now: Date): ClusterStatus | HostStatus {
  const { conditions: reported, ...fields } = body;
  let conditions = current?.conditions ?? [];
  for (const { lastTransitionTime, observedGeneration, ...c } of reported ?? []) {
    const observed = lastTransitionTime ? parseRfc3339(lastTransitionTime) : undefined;
    const generation = observedGeneration || fields.observedGeneration;
    conditions = setCondition(conditions, { ...c, ...(generation ? { observedGeneration: generation } : {}), ...(observed ? { lastTransitionTime: rfc3339(observed) } : {}) }, now);
  }
  return { ...fields, ...(conditions.length > 0 ? { conditions } : {}) };
}

/**
 * Which part of a Cluster's status a report owns. Two agents report on a hosted Cluster with static
 * workers: the seed's (`serving`: the control plane, phase, endpoint, lastOperation and every node but
 * the workers) and the workers' site's (`workers`: the worker nodes and its own condition types, such as
 * WorkersJoined and EndpointReachable). Neither report overwrites the other's part; conditions merge by
 * type either way. Every other report owns the whole status (`whole`).
 */
export type StatusShare = 'whole' | 'serving' | 'workers';

const isWorker = (n: NodeState): boolean => n.role === 'worker';

/** `body` cut down to what `share` owns, the rest taken from `current`. Pure. */
export function ownedPart(current: ClusterStatus | null | undefined, body: ClusterStatus, share: StatusShare): ClusterStatus {
  if (share === 'whole') return body;
  const kept = (current?.nodes ?? []).filter((n) => (share === 'serving' ? isWorker(n) : !isWorker(n)));
  const reported = (body.nodes ?? []).filter((n) => (share === 'serving' ? !isWorker(n) : isWorker(n)));
  const nodes = share === 'serving' ? [...reported, ...kept] : [...kept, ...reported];
  if (share === 'serving') {
    const { nodes: _nodes, ...fields } = body;
    return { ...fields, ...(nodes.length ? { nodes } : {}) };
  }
  const { conditions: _c, nodes: _n, ...fields } = current ?? {};
  return { ...fields, ...(nodes.length ? { nodes } : {}), ...(body.conditions ? { conditions: body.conditions } : {}) };
}

/** The share of a report from the agent serving `view` on `obj`. */
function shareOf(store: Store, view: string, obj: ResourceObject): StatusShare {
  if (obj.kind !== 'Cluster' || (obj as Cluster).spec?.controlPlane?.mode !== 'hosted') return 'whole';
  return servesDatacenter(obj as Cluster, view, { datacenter: (name) => store.get('Datacenter', '', name) }) ? 'serving' : 'workers';
}

function tooLarge(what: string, why: string): StatusRefusal {
  return { code: ErrorCode.statusTooLarge, message: `status of ${what} refused: it ${why} (every write of a status goes into the change log whole); report fewer or shorter conditions and messages` };
}

function record(store: Store, agentId: string, view: string, status: Status, now: Date): StatusRefusal | undefined {
  const ref = status.ref;
  const key = keyOfRef(ref);
  const what = `${key.kind} ${key.namespace ? `${key.namespace}/` : ''}${key.name}`;
  if (!store.inView(view, key)) return { code: ErrorCode.notInView, message: `${what} is not in this agent's view; status ignored` };
  let reported;
  try {
    reported = checkReportedStatus(status);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    return { code: ErrorCode.invalidStatus, message: `status of ${what} refused: ${err.message}` };
  }
  const sentConditions = reported.body.conditions?.length ?? 0;
  if (sentConditions > MAX_STATUS_CONDITIONS) return tooLarge(what, `carries ${sentConditions} conditions; at most ${MAX_STATUS_CONDITIONS} are kept`);
  const current = store.get<ResourceObject<object, { conditions?: Condition[] }>>(key.kind, key.namespace, key.name);
  if (!current) return undefined;
  // About an earlier object of that name (deleted and created again since the agent observed it): moot.
  if (ref?.uid && current.metadata.uid && ref.uid !== current.metadata.uid) return undefined;
  const share = shareOf(store, view, current);
  const body = share === 'whole' ? reported.body : ownedPart(current.status as ClusterStatus | undefined, reported.body as ClusterStatus, share);
  const next = mergeReportedStatus(current.status, body, now);
  // Caps on what is kept, not only on what was sent: conditions merge by type, so new types add up.
  const kept = next.conditions?.length ?? 0;
  if (kept > MAX_STATUS_CONDITIONS) return tooLarge(what, `would hold ${kept} conditions with the ones already recorded; at most ${MAX_STATUS_CONDITIONS} are kept`);
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes > MAX_STATUS_BYTES) return tooLarge(what, `would be ${bytes} bytes of JSON; at most ${MAX_STATUS_BYTES} are kept`);
  // A report that changes nothing (an agent restarted with its outbox unsent, say) costs no revision.
  if (!isDeepStrictEqual(next, current.status)) store.replaceStatus(key, next, { actor: `agent:${agentId}` });
  return undefined;
}

/** Records a reported Status; returns why it was refused, or undefined when it was recorded (or its object is gone). */
export function applyAgentStatus(store: Store, agentId: string, view: string, status: Status, now: Date = new Date()): StatusRefusal | undefined {
  try {
    if (status.finalized) {
      const kept = releaseAgentFinalizer(store, agentId, view, status);
      return kept ? { code: ErrorCode.invalidStatus, message: kept } : undefined;
    }
    return record(store, agentId, view, status, now);
  } catch (err) {
    return { code: ErrorCode.internal, message: `status not recorded: ${(err as Error).message}` };
  }
}
