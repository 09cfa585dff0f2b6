// Whether an event the seed's watch reports on an object the agent made is drift, that is, a change the
// agent did not make and must put back (a `kubectl set image`, a deleted Secret, a pod taken away), or the
// seed's own bookkeeping and the echo of the agent's own applies, which must not requeue anything. Pure.
//
// The rule reads managedFields rather than comparing each object with what the agent applied: the seed
// defaults and normalises what it is given (ports, quantities, probes, ...), so an honest comparison would
// need a copy of every default; managedFields say who wrote, which is the question. A write is drift when a
// manager other than the agent's, on the object itself or its /scale (not its status), owns content (spec,
// a Secret's data, labels) at a time the watch had not seen before: the agent's own applies only move
// `outpost-agent`'s entry, controllers write status through the subresource, and the Deployment
// controller's revision annotation is not content. A forced apply takes the fields back, so the hand
// edit's entry disappears and the next event is quiet again: no endless requeue.
//
// Pods belong to their controllers, which replace a deleted one themselves; a pod's going is noted (status
// says what happened) when it was of its controller's current revision. Pods of an older revision go
// because a roll replaces them (a renewal, an upgrade), which is the agent's own doing.
import type { KubernetesObject } from '@kubernetes/client-node';

/** What the seed agent watches, by kind: everything it applies, the pods they own, and the ReplicaSets (for revisions). */
export const WATCHED_KINDS = ['Deployment', 'StatefulSet', 'ReplicaSet', 'Service', 'Secret', 'PodDisruptionBudget', 'Pod'] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

export type WatchEventType = 'add' | 'update' | 'delete';

interface ManagedFields {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: Date | string;
  fieldsV1?: object;
}

export interface WatchedObject extends KubernetesObject {
  metadata?: KubernetesObject['metadata'] & { managedFields?: ManagedFields[]; deletionTimestamp?: Date | string };
  status?: { updateRevision?: string };
}

/** Something changed by another hand, for the status of the component it belongs to. */
export interface Drift {
  /** The object's outpost.dev/component label (etcd, kube-apiserver, ..., pki). */
  component: string;
  /** "Pod etcd-0 was deleted", "Deployment kube-scheduler was changed by kubectl-set". */
  note: string;
  /** A pod that went: the run that puts it back waits until it is gone and replaced by a ready one. */
  podUid?: string;
}

/** Fields whose owner is a writer of what the agent applies, not of the seed's bookkeeping. */
const CONTENT_FIELDS = ['f:spec', 'f:data', 'f:stringData', 'f:binaryData'];

function ownsContent(fields: object | undefined): boolean {
  if (!fields) return false;
  if (CONTENT_FIELDS.some((f) => f in fields)) return true;
  const meta = (fields as Record<string, unknown>)['f:metadata'];
  return typeof meta === 'object' && meta !== null && 'f:labels' in meta;
}

/**
 * The content writes of managers other than `ours` on the object itself: "manager/operation" → when it last
 * wrote (ms since the epoch, so a list's Date and a watch's string compare equal).
 */
export function foreignWrites(obj: WatchedObject | undefined, ours: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of obj?.metadata?.managedFields ?? []) {
    // Status is the controllers' to write; a write through /scale (kubectl scale) is content like any other.
    if (f.manager === ours || f.subresource === 'status' || !ownsContent(f.fieldsV1)) continue;
    out.set(`${f.manager ?? '?'}/${f.operation ?? '?'}`, f.time ? new Date(f.time).getTime() : 0);
  }
  return out;
}

export interface DriftFacts {
  /** The object's foreign writes when the watch last saw it; undefined on first sight. */
  seenWrites: ReadonlyMap<string, number> | undefined;
  /** Our field manager. */
  ours: string;
  /** A pod's: whether it is of its controller's current revision; undefined when that cannot be told. */
  currentRevision?: boolean;
}

const nameOf = (o: WatchedObject): string => o.metadata?.name ?? '?';

/** The drift `type` on `obj` is, or undefined when it is the agent's own doing or the seed's bookkeeping. */
export function driftOf(type: WatchEventType, kind: WatchedKind, obj: WatchedObject, facts: DriftFacts): Drift | undefined {
  const component = obj.metadata?.labels?.['outpost.dev/component'] ?? '';
  if (kind === 'ReplicaSet') return undefined;
  if (kind === 'Pod') {
    const gone = type === 'delete' || (type === 'update' && Boolean(obj.metadata?.deletionTimestamp));
    // A pod of an older revision is replaced by a roll; one that cannot be placed is noted: a run costs little.
    if (!gone || facts.currentRevision === false) return undefined;
    return { component, note: `Pod ${nameOf(obj)} was deleted`, ...(obj.metadata?.uid ? { podUid: obj.metadata.uid } : {}) };
  }
  // A label-selector watch reports an object that lost the agent's labels as deleted, too: either way it is put back.
  if (type === 'delete') return { component, note: `${kind} ${nameOf(obj)} was deleted` };
  // First sight (the agent's own create, or the list after a start) is no change: a start reconciles everything anyway.
  if (type === 'add' || !facts.seenWrites) return undefined;
  const now = foreignWrites(obj, facts.ours);
  const fresh = [...now].filter(([who, at]) => facts.seenWrites?.get(who) !== at).map(([who]) => who.split('/')[0] ?? who);
  if (!fresh.length) return undefined;
  return { component, note: `${kind} ${nameOf(obj)} was changed by ${[...new Set(fresh)].join(', ')}` };
}

/** The revision a pod's controller runs now, from the watch's caches: whether `pod` is of it. */
export function isCurrentRevision(
  pod: WatchedObject,
  lookup: (kind: 'StatefulSet' | 'ReplicaSet' | 'Deployment', namespace: string, name: string) => WatchedObject | undefined,
): boolean | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (!owner) return undefined;
  if (owner.kind === 'StatefulSet') {
    const want = lookup('StatefulSet', ns, owner.name)?.status?.updateRevision;
    const have = pod.metadata?.labels?.['controller-revision-hash'];
    return want && have ? want === have : undefined;
  }
  if (owner.kind === 'ReplicaSet') {
    const rs = lookup('ReplicaSet', ns, owner.name);
    const dep = rs?.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
    const revision = (o: WatchedObject | undefined) => o?.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    const want = dep ? revision(lookup('Deployment', ns, dep.name)) : undefined;
    const have = revision(rs);
    return want && have ? want === have : undefined;
  }
  return undefined;
}
