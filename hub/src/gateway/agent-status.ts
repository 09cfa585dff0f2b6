// Writes a Status an agent reported into the object it names. Runs where the store's writer is: in the
// hub process, or in the primary when the gateway is spread over processes.
import { setCondition } from '../conditions.js';
import type { Store } from '../store/store.js';
import type { Cluster, Status } from '@outpost/proto';

/** Kinds an agent may report status for; everything else in its view is input only. */
const STATUS_KINDS = new Set(['Cluster', 'Host']);

/** Returns why the status was refused, or undefined when it was recorded (or its object is gone). */
export function applyAgentStatus(store: Store, agentId: string, view: string, status: Status): string | undefined {
  const ref = status.ref;
  const key = { kind: ref?.kind ?? '', namespace: ref?.namespace ?? '', name: ref?.name ?? '' };
  if (!STATUS_KINDS.has(key.kind) || !store.inView(view, key)) {
    return `${key.kind} ${key.namespace}/${key.name} is not in this agent's view; status ignored`;
  }
  const current = store.get<Cluster>(key.kind, key.namespace, key.name);
  if (!current) return undefined;
  let conditions = current.status?.conditions ?? [];
  for (const c of status.conditions ?? []) conditions = setCondition(conditions, { ...c, observedGeneration: c.observedGeneration || status.observedGeneration || 0 });
  const next = {
    ...current.status,
    ...(status.phase ? { phase: status.phase } : {}),
    ...(status.endpoint ? { endpoint: status.endpoint } : {}),
    observedGeneration: status.observedGeneration ?? 0,
    conditions,
  };
  store.replaceStatus(key, next, { actor: `agent:${agentId}` });
  return undefined;
}
