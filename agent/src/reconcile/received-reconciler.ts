// The first reconciler: acknowledges every Cluster the agent receives with a Received condition, so the
// whole loop (hub -> agent -> hub) is visible before real provisioning exists.
import type { ResourceObject } from '@outpost/proto';
import type { StatusReport } from '../state/local-state.js';
import type { Reconciler } from './reconciler.js';

export class ReceivedReconciler implements Reconciler {
  readonly kind = 'Cluster';

  async reconcile(obj: ResourceObject): Promise<StatusReport> {
    const generation = obj.metadata.generation ?? 0;
    return {
      ref: { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '' },
      cluster: {
        observedGeneration: generation,
        // No lastTransitionTime: the reconcile manager stamps it against the last report.
        conditions: [{ type: 'Received', status: 'True', reason: 'AgentReceived', message: `agent holds generation ${generation}`, observedGeneration: generation }],
      },
    };
  }

  /** It made nothing, so there is nothing to tear down. */
  async finalize(): Promise<void> {}
}
