// A flow's progress in the shape every kind's status carries (`lastOperation`, `lastErrors`), as Gardener
// reports its shoots: the engine knows no kind, but each kind's status embeds these two messages.
import type { pb } from '@outpost/proto';
import type { FlowProgress } from './flow-progress.js';

/** proto's LastOperation and LastError, in their JSON form. */
export type LastOperation = NonNullable<ConstructorParameters<typeof pb.LastOperation>[0]>;
export type LastError = NonNullable<ConstructorParameters<typeof pb.LastError>[0]>;

/**
 * `type` is what the flow does for the object ("Create", "Reconcile", "Delete"). `step` names the steps the
 * flow is on: running ones while Processing, where it stopped when Failed or Aborted.
 */
export function lastOperation(type: string, progress: FlowProgress): LastOperation {
  return { type, state: progress.state, progress: progress.percent, step: progress.currentSteps.join(', '), lastUpdateTime: progress.time };
}

export function lastErrors(progress: FlowProgress): LastError[] {
  return progress.errors.map((e) => ({ step: e.step, host: e.host ?? '', message: e.message, time: e.time }));
}
