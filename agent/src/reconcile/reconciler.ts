// Reconcilers plug in by resource kind. Each turns one object of its kind into reality and says how
// it went; the manager persists that as a status for the hub.
import type { ResourceObject } from '@outpost/proto';
import type { StatusReport } from '../state/local-state.js';

export interface Reconciler {
  readonly kind: string;
  /** Makes `obj` real. Returns the status to report, or undefined for none. Must be idempotent. */
  reconcile(obj: ResourceObject): Promise<StatusReport | undefined>;
  /**
   * Tears down everything this reconciler made for an object that is being deleted or has left the view,
   * given as last known. Must be idempotent: it is run again after a crash until it has succeeded once.
   * When it resolves, the agent releases its finalizer (Status{finalized}) and forgets the object.
   */
  finalize?(lastKnown: ResourceObject, signal?: AbortSignal): Promise<void>;
}
