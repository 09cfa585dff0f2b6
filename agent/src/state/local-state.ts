// What an agent keeps: its view as last received, the revision it acked, which generations its
// reconcilers have handled, statuses not yet stored by the hub, and tombstones: objects that left the view
// (or were deleted at the hub), kept as last known until their reconciler has torn down what it made. The
// interface lets simulated agents (scale tests) keep it in memory; real agents use SqliteLocalState.
import type { KindStatus, ObjectKey, ObjectRef, ResourceObject, StatusField } from '@outpost/proto';

export { keyOf, keyOfRef, keyString, type ObjectKey } from '@outpost/proto';

export interface IncomingChange {
  key: ObjectKey;
  /** Absent when the object left the view. */
  object?: ResourceObject | undefined;
}

export interface AppliedChange {
  key: ObjectKey;
  /** The object now; for a deletion, as last known (kept as a tombstone until `forget`). */
  object?: ResourceObject | undefined;
  /** For a change of an object already held: how it was before (a Host's old labels say who selected it). */
  previous?: ResourceObject | undefined;
  /** The object left the view or was deleted at the hub. */
  deleted: boolean;
  /** It carries a deletionTimestamp: the hub deletes it once its finalizers are released. */
  beingDeleted?: boolean | undefined;
  /** Its reconciler has finalized it already (`forget` was called): nothing is left to tear down. */
  finalized?: boolean | undefined;
}

export interface ChangeBatch {
  snapshot: boolean;
  revision: number;
  changes: readonly IncomingChange[];
}

/** A status as a reconciler reports it: its object and exactly one kind's status message. */
export type StatusReport = { ref: ObjectRef } & KindStatus;
/**
 * The release of this agent's finalizer for `ref` (Status{finalized}): its reconciler has torn down
 * everything it made for the object. Carries no status message.
 */
export type FinalizedReport = { ref: ObjectRef; finalized: true } & Partial<Record<StatusField, undefined>>;
/** What the outbox carries to the hub. */
export type OutboxReport = StatusReport | FinalizedReport;
/** A report in the outbox, numbered; sent as the wire Status. */
export type PendingStatus = OutboxReport & { seq: number };

export interface LocalState {
  revision(): number;
  /** Applies a batch atomically and records its revision; returns what really changed. */
  apply(batch: ChangeBatch): AppliedChange[];
  /** An object in the view (tombstones are not). */
  get(key: ObjectKey): ResourceObject | undefined;
  /** The objects in the view (tombstones are not). */
  list(kind?: string): ResourceObject[];
  /** Objects whose current generation no reconciler has handled yet (after a crash, say); not those being deleted. */
  unreconciled(): ResourceObject[];
  markReconciled(key: ObjectKey, generation: number): void;
  /** Objects removed from the view whose finalize has not succeeded yet, as last known (resumed on start). */
  tombstones(): ResourceObject[];
  /** Objects in the view carrying a deletionTimestamp that are not finalized yet (resumed on start). */
  beingDeleted(): ResourceObject[];
  /**
   * The reconciler's finalize step for `key` succeeded. A tombstone is dropped; an object still in the
   * view (being deleted, the hub removes it once its finalizer is released) is marked finalized, so it
   * is not finalized again and its removal from the view drops it at once.
   */
  forget(key: ObjectKey): void;
  /**
   * Queues a status (or the release of this agent's finalizer) for the hub, replacing any older unsent
   * one for the same object; a status is kept as the object's last report. Returns its seq.
   */
  enqueueStatus(report: OutboxReport): number;
  /** The last status queued for `key` (sent or not), until the object leaves the view. */
  lastReported(key: ObjectKey): StatusReport | undefined;
  pendingStatuses(): PendingStatus[];
  /** The hub stored every status up to `seq`. */
  statusesStored(seq: number): void;
  close(): void;
}

/** Whether `o` carries a deletionTimestamp (the hub waits for its finalizers before deleting it). */
export function isBeingDeleted(o: ResourceObject): boolean {
  return !!o.metadata.deletionTimestamp;
}

export function isFinalizedReport(r: OutboxReport): r is FinalizedReport {
  return 'finalized' in r && r.finalized === true;
}
