// The first reconciler: acknowledges every Cluster the agent receives with a Received condition, so the
// whole loop (hub -> agent -> hub) is visible before real provisioning exists. It runs as a one-step flow
// (lastOperation in the Cluster's status), so the engine carries it like every reconciler after it.
// Where another reconciler makes a Cluster real (hosted on a seed, kubeadm at a site), that one's flow owns
// lastOperation and lastErrors: Received then only says so in its condition, so two flows never take
// turns writing one Cluster's progress.
import type { ResourceObject } from '@outpost/proto';
import { Flow } from '../engine/index.js';
import { runFlow } from './flow-run.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from './reconciler.js';

/** Nothing to do but say so; one step, so the engine's journal and progress carry even this reconciler. */
const RECEIVE = new Flow('receive', [{ name: 'acknowledge', run: async () => undefined }]);

export class ReceivedReconciler implements Reconciler {
  readonly name = 'received';
  readonly kind = 'Cluster';

  /** `makers`: the reconcilers that make Clusters real, whose flows report a Cluster's progress. */
  constructor(private readonly makers: readonly Pick<Reconciler, 'kind' | 'owns'>[] = []) {}

  owns(): boolean {
    return true;
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const generation = obj.metadata.generation ?? 0;
    if (!this.makers.some((r) => r.kind === obj.kind && r.owns(obj))) await runFlow(RECEIVE, 'Reconcile', obj, ctx);
    return { status: { observedGeneration: generation, conditions: [{ type: 'Received', status: 'True', reason: 'AgentReceived', message: `agent holds generation ${generation}`, observedGeneration: generation }] } };
  }

  /** Received made nothing, so there is nothing to tear down. */
  async finalize(): Promise<void> {}
}
