// The first reconciler: acknowledges every Cluster the agent receives with a Received condition, so the
// whole loop (hub -> agent -> hub) is visible before real provisioning exists. It runs as a one-step flow
// (lastOperation in the Cluster's status), so the engine carries it like every reconciler after it.
import type { ResourceObject } from '@outpost/proto';
import { Flow } from '../engine/index.js';
import { runFlow } from './flow-run.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from './reconciler.js';

/** Nothing to do but say so; one step, so the engine's journal and progress carry even this reconciler. */
const RECEIVE = new Flow('receive', [{ name: 'acknowledge', run: async () => undefined }]);

export class ReceivedReconciler implements Reconciler {
  readonly name = 'received';
  readonly kind = 'Cluster';

  owns(): boolean {
    return true;
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const generation = obj.metadata.generation ?? 0;
    await runFlow(RECEIVE, 'Reconcile', obj, ctx);
    return { status: { observedGeneration: generation, conditions: [{ type: 'Received', status: 'True', reason: 'AgentReceived', message: `agent holds generation ${generation}`, observedGeneration: generation }] } };
  }

  /** Received made nothing, so there is nothing to tear down. */
  async finalize(): Promise<void> {}
}
