// Deletion at the agent: an object being deleted at the hub, or gone from the view, is torn down by its
// reconciler's finalize step before the agent lets go of it. Kept apart from the manager that runs it, so
// the rules stay the same whichever engine drives the reconcilers.
import type { ResourceObject } from '@outpost/proto';
import { keyOf, type AppliedChange, type LocalState } from '../state/local-state.js';
import type { Reconciler } from './reconciler.js';

/** Whether `ch` asks for a finalize (being deleted, or gone) rather than a reconcile. */
export function wantsFinalize(ch: AppliedChange): boolean {
  return ch.deleted || !!ch.beingDeleted;
}

/**
 * Runs `reconciler.finalize` for `lastKnown`; once it succeeded, queues the release of this agent's
 * finalizer (Status{finalized}, durable in the outbox across reconnects and restarts) and then forgets
 * the object. A failure leaves the tombstone or the being-deleted object for the next attempt.
 */
export async function finalizeObject(state: LocalState, reconciler: Reconciler, lastKnown: ResourceObject, signal?: AbortSignal): Promise<void> {
  await reconciler.finalize?.(lastKnown, signal);
  const key = keyOf(lastKnown);
  state.enqueueStatus({ ref: { ...key, uid: lastKnown.metadata.uid ?? '' }, finalized: true });
  state.forget(key);
}

/** What a restarted agent still has to finalize: tombstones and objects being deleted. */
export function unfinishedDeletions(state: LocalState): AppliedChange[] {
  return [
    ...state.beingDeleted().map((object) => ({ key: keyOf(object), object, deleted: false, beingDeleted: true })),
    ...state.tombstones().map((object) => ({ key: keyOf(object), object, deleted: true })),
  ];
}
