// An agent's release of its finalizer (Status{finalized}): it has torn down everything it made for the
// object. Runs where the store's writer is, from the agent status path. An agent releases only its own
// view's finalizer, also for an object that has left its view (its Datacenter moved, say).
import { agentFinalizer, keyOfRef, type Status } from '@outpost/proto';
import type { Store } from '../store/store.js';

/** Returns why the release was refused, or undefined when it was done (or there was nothing to release). */
export function releaseAgentFinalizer(store: Store, agentId: string, view: string, status: Status): string | undefined {
  const ref = status.ref;
  const key = keyOfRef(ref);
  const current = store.get(key.kind, key.namespace, key.name);
  // Gone (forced, or released before a reconnect resent this), or a newer object under the same name.
  if (!current || (ref?.uid && ref.uid !== current.metadata.uid)) return undefined;
  const finalizer = agentFinalizer(view);
  if (!current.metadata.finalizers?.includes(finalizer)) return undefined;
  if (!current.metadata.deletionTimestamp && store.inView(view, key)) {
    return `${key.kind} ${key.namespace}/${key.name} is in this agent's view and not being deleted; its finalizer ${finalizer} stays`;
  }
  store.removeFinalizer(key, finalizer, { actor: `agent:${agentId}` });
  return undefined;
}
