// Persisting a Changes answer: the one path by which desired state enters the agent, whether it came over
// the link (hub-link.ts) or on a disk (bundles/bundle-import.ts).
import { keyOfRef, resourceFromWire, type Change } from '@outpost/proto';
import type { AppliedChange, IncomingChange, LocalState } from '../state/local-state.js';

export interface ChangesAnswer {
  snapshot: boolean;
  revision: number;
  changes: readonly Change[];
}

/** Applies the answer atomically and records its revision; returns what really changed. */
export function applyChanges(state: LocalState, answer: ChangesAnswer): AppliedChange[] {
  const batch: IncomingChange[] = answer.changes.map((c) => ({
    key: keyOfRef(c.ref),
    object: c.deleted || !c.object ? undefined : resourceFromWire(c.object),
  }));
  return state.apply({ snapshot: answer.snapshot, revision: answer.revision, changes: batch });
}
