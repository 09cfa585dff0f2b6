// A Cluster's phase while its reconciler runs, for every reconciler that makes clusters (hosted on a seed,
// kubeadm on site hosts). Pure.
import type { Cluster, ResourceObject } from '@outpost/proto';

/** The phase a reconciler last reported for a Cluster, and for which generation. */
export interface ReportedPhase {
  phase: string;
  generation: number;
}

/**
 * Running stays Running while a periodic run checks it; a spec change (a new version, say) to a cluster
 * that was Running is an update until the run for it has finished. `known` is what this process last
 * reported: the view's copy of the status may lag behind it, or carry none.
 */
export function phaseDuring(obj: ResourceObject, known: ReportedPhase | undefined): string {
  const status = (obj as Cluster).status;
  const was = known?.phase ?? status?.phase;
  if (was !== 'Running' && was !== 'Updating') return 'Creating';
  return Number(known?.generation ?? status?.observedGeneration ?? 0) < (obj.metadata.generation ?? 0) ? 'Updating' : was;
}
