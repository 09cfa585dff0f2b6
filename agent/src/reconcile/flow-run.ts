// Runs a reconciler's flow for one object with the agent's journal, and reports its progress into the
// object's status as it goes (lastOperation, lastErrors), as Gardener reports a shoot's.
import type { ResourceObject } from '@outpost/proto';
import { lastErrors, lastOperation, type Flow } from '../engine/index.js';
import { keyString, keyOf } from '../state/local-state.js';
import type { ReconcileContext } from './reconciler.js';

/**
 * `type` names what the flow does ("Reconcile", "Delete"). The journal keeps the flow's place under the
 * object and this flow's name, for the object's generation: a spec change starts the flow over.
 */
export function runFlow(flow: Flow, type: string, obj: ResourceObject, ctx: ReconcileContext): Promise<unknown> {
  return flow.run({
    flowId: `${keyString(keyOf(obj))}/${flow.name}`,
    revision: String(obj.metadata.generation ?? 0),
    journal: ctx.journal,
    signal: ctx.signal,
    onProgress: (progress) => ctx.report({ lastOperation: lastOperation(type, progress), lastErrors: lastErrors(progress) }),
  });
}
