// Reconcilers plug in by resource kind. Each turns one object of its kind into reality and says how
// it went; the manager persists that as a status for the hub.
import type { ResourceObject } from '@outpost/proto';
import type { ObjectKey, StatusReport } from '../state/local-state.js';

export interface Reconciler {
  readonly kind: string;
  /** Makes `obj` real. Returns the status to report, or undefined for none. Must be idempotent. */
  reconcile(obj: ResourceObject): Promise<StatusReport | undefined>;
  /** `key` left the view or was deleted. */
  remove?(key: ObjectKey): Promise<void>;
}
