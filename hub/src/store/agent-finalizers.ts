// Which agent finalizers an object carries. A Cluster carries, from creation on, the finalizer of the agent
// serving its view, so deleting it waits until that agent has torn down what it made (Status{finalized}).
// Only that agent releases it: a replace that leaves it out keeps it, and a live object gets its serving
// agent's finalizer back on every write. An operator removes agent finalizers only explicitly (a merge
// patch naming metadata.finalizers, as `outpost delete --force` sends) and, for the serving agent's, only
// once the object is being deleted.
import { agentFinalizer, isAgentFinalizer, type ResourceObject } from '@outpost/proto';
import { ALL_AGENTS_VIEW } from './views.js';

/** Kinds an agent makes something real for, and so holds with its finalizer. */
const HELD_KINDS: ReadonlySet<string> = new Set(['Cluster']);

/** The finalizers of the agents serving `obj`, given the views it is in. */
export function servingFinalizers(obj: ResourceObject, views: readonly string[]): string[] {
  if (!HELD_KINDS.has(obj.kind)) return [];
  return views.filter((v) => v !== ALL_AGENTS_VIEW).map(agentFinalizer);
}

export interface FinalizerWrite {
  /** What the write asks for. */
  requested: readonly string[] | null | undefined;
  /** What the object carries now; absent on create. */
  current?: readonly string[] | null | undefined;
  /** servingFinalizers of the object as written. */
  serving: readonly string[];
  /** The request sets finalizers exactly (a merge patch): agent finalizers it leaves out go. */
  exact: boolean;
  beingDeleted: boolean;
}

/** The finalizers to store; undefined when there are none and none were asked for (bodies stay as sent). */
export function finalizersFor(w: FinalizerWrite): string[] | undefined {
  const out = new Set(w.requested ?? []);
  if (!w.exact) for (const f of w.current ?? []) if (isAgentFinalizer(f)) out.add(f);
  if (!w.beingDeleted) for (const f of w.serving) out.add(f);
  if (out.size === 0 && !w.requested) return undefined;
  return [...out];
}
