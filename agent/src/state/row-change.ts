// What one change of a batch does to the row an agent keeps for its object: the rules of tombstones,
// once, for SqliteLocalState and MemoryLocalState alike.
import { isDeepStrictEqual } from 'node:util';
import type { ResourceObject } from '@outpost/proto';
import { isBeingDeleted, type AppliedChange, type ObjectKey } from './local-state.js';

export interface StoredRow {
  object: ResourceObject;
  /** The generation a reconciler last handled. */
  reconciled: number;
  /** Left the view; `object` is as last known, kept until its reconciler has finalized it. */
  tombstone: boolean;
  /** Being deleted and its reconciler has finalized it already. */
  finalized: boolean;
}

export interface RowChange {
  /** The row to store, or null to drop it. */
  row: StoredRow | null;
  applied: AppliedChange;
}

/** `incoming` absent: the object left the view. Returns undefined when nothing changes. */
export function rowChange(key: ObjectKey, current: StoredRow | undefined, incoming: ResourceObject | undefined): RowChange | undefined {
  const live = current && !current.tombstone ? current : undefined;
  if (!incoming) {
    if (!live) return undefined;
    const gone = { key, object: live.object, deleted: true, ...(isBeingDeleted(live.object) ? { beingDeleted: true } : {}) };
    // Finalized already: nothing left to keep it for.
    if (live.finalized) return { row: null, applied: { ...gone, finalized: true } };
    return { row: { ...live, tombstone: true }, applied: gone };
  }
  if (live && isDeepStrictEqual(live.object, incoming)) return undefined;
  const beingDeleted = isBeingDeleted(incoming);
  // A new object under the name (it replaced a tombstone, or came with a new uid) starts unreconciled.
  const same = live !== undefined && live.object.metadata.uid === incoming.metadata.uid;
  const finalized = same && live.finalized && beingDeleted;
  return {
    row: { object: incoming, reconciled: same ? live.reconciled : 0, tombstone: false, finalized },
    applied: { key, object: incoming, ...(live ? { previous: live.object } : {}), deleted: false, ...(beingDeleted ? { beingDeleted } : {}), ...(finalized ? { finalized } : {}) },
  };
}
