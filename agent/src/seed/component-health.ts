// Whether a component's workload has rolled out and is ready, and why not when its pods cannot even start
// (an image the node lacks). Read from the objects the seed reports. Pure.
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';

/** The waiting reasons of a container whose image the node has not got and cannot pull. */
export const IMAGE_PROBLEMS: ReadonlySet<string> = new Set(['ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

export interface Rollout {
  ready: boolean;
  /** "1/1 ready", "0/1 ready, 1 of the new revision". */
  summary: string;
}

export function deploymentRollout(d: V1Deployment | undefined): Rollout {
  if (!d) return { ready: false, summary: 'not made yet' };
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const current = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const ready = current && (s.updatedReplicas ?? 0) === want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) === want;
  return { ready, summary: `${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} of the current revision` };
}

export function statefulSetRollout(st: V1StatefulSet | undefined): Rollout {
  if (!st) return { ready: false, summary: 'not made yet' };
  const want = st.spec?.replicas ?? 1;
  const s = st.status;
  const current = (s?.observedGeneration ?? 0) >= (st.metadata?.generation ?? 0) && s?.currentRevision === s?.updateRevision;
  const ready = current && (s?.readyReplicas ?? 0) === want && (s?.updatedReplicas ?? want) === want;
  return { ready, summary: `${s?.readyReplicas ?? 0}/${want} members ready` };
}

/**
 * Whether the pods `gone` names (deleted by another hand) are gone and replaced: none of them is left and
 * every pod of the component that is not terminating is ready. A workload's status may still count a
 * deleted pod as ready for a moment, so its rollout alone does not say the pod is back.
 */
export function podsReplaced(pods: readonly V1Pod[], gone: ReadonlySet<string>): Rollout {
  const left = pods.filter((p) => gone.has(p.metadata?.uid ?? '')).map((p) => p.metadata?.name ?? '?');
  if (left.length) return { ready: false, summary: `waiting for the deleted pod ${left.join(', ')} to go` };
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ready = live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return { ready: live.length > 0 && ready.length === live.length, summary: `${ready.length}/${live.length} pods ready since the deletion` };
}

export interface ImageProblem {
  image: string;
  node: string;
  reason: string;
  pod: string;
}

/** The first container of `pods` stuck on its image, if any. */
export function imageProblem(pods: readonly V1Pod[]): ImageProblem | undefined {
  for (const pod of pods) {
    for (const cs of pod.status?.containerStatuses ?? []) {
      const reason = cs.state?.waiting?.reason;
      if (reason && IMAGE_PROBLEMS.has(reason)) return { image: cs.image || (pod.spec?.containers.find((c) => c.name === cs.name)?.image ?? '?'), node: pod.spec?.nodeName ?? '', reason, pod: pod.metadata?.name ?? '' };
    }
  }
  return undefined;
}

/** Another writer's change to an object's spec (kubectl edit, set image): the agent's next apply takes it back. */
export function foreignSpecManagers(obj: { metadata?: { managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: object }[] } } | undefined, ours: string): string[] {
  return (obj?.metadata?.managedFields ?? [])
    .filter((f) => f.manager !== ours && !f.subresource && f.fieldsV1 && 'f:spec' in f.fieldsV1)
    .map((f) => f.manager ?? '?');
}
