// What an agent keeps: its view as last received, the revision it acked, which generations its
// reconcilers have handled, and statuses not yet stored by the hub. The interface lets simulated agents
// (scale tests) keep it in memory; real agents use SqliteLocalState.
import type { ObjectKey, ObjectRef, ResourceObject, KindStatus } from '@outpost/proto';

export { keyOf, keyOfRef, keyString, type ObjectKey } from '@outpost/proto';

export interface IncomingChange {
  key: ObjectKey;
  /** Absent when the object left the view. */
  object?: ResourceObject | undefined;
}

export interface AppliedChange {
  key: ObjectKey;
  object?: ResourceObject | undefined;
  deleted: boolean;
}

export interface ChangeBatch {
  snapshot: boolean;
  revision: number;
  changes: readonly IncomingChange[];
}

/** A status as a reconciler reports it: its object and exactly one kind's status message. */
export type StatusReport = { ref: ObjectRef } & KindStatus;
/** A report in the outbox, numbered; sent as the wire Status. */
export type PendingStatus = StatusReport & { seq: number };

export interface LocalState {
  revision(): number;
  /** Applies a batch atomically and records its revision; returns what really changed. */
  apply(batch: ChangeBatch): AppliedChange[];
  get(key: ObjectKey): ResourceObject | undefined;
  list(kind?: string): ResourceObject[];
  /** Objects whose current generation no reconciler has handled yet (after a crash, say). */
  unreconciled(): ResourceObject[];
  markReconciled(key: ObjectKey, generation: number): void;
  /**
   * Queues a status for the hub, replacing any older unsent one for the same object, and keeps it as the
   * object's last report; returns its seq.
   */
  enqueueStatus(report: StatusReport): number;
  /** The last status queued for `key` (sent or not), until the object leaves the view. */
  lastReported(key: ObjectKey): StatusReport | undefined;
  pendingStatuses(): PendingStatus[];
  /** The hub stored every status up to `seq`. */
  statusesStored(seq: number): void;
  close(): void;
}
