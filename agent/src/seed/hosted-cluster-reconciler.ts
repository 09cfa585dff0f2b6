// The hosted control plane: for each Cluster with controlPlane.mode hosted, a flow through the seed's
// Kubernetes API, in Gardener's order (namespace, secrets, etcd, apiserver, ...). Only the steps that
// really work are in the flow: today that is the namespace. Deleting the Cluster deletes the namespace, and
// the finalizer is released only once the seed says it is gone.
import type { Cluster, Condition, ResourceObject } from '@outpost/proto';
import { Flow, sleep, StepTimeoutError, systemClock, type FlowStep } from '../engine/index.js';
import { runFlow } from '../reconcile/flow-run.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../reconcile/reconciler.js';
import { NamespaceTakenError, SeedUnreachableError } from './errors.js';
import { CLUSTER_LABEL, controlPlaneLabels, controlPlaneNamespace, PROJECT_LABEL } from './namespace-name.js';
import type { SeedApi } from './seed-api.js';

export interface HostedClusterOptions {
  api: SeedApi;
  /** How long the namespace step waits for the seed before that attempt fails as unreachable. Default 60 s. */
  stepTimeoutMs?: number;
  /** How often a deletion looks whether the namespace is gone yet. Default 1 s. */
  deletePollMs?: number;
  /** How long one attempt waits for the namespace to go before it fails (and is retried with backoff). Default 10 minutes. */
  deleteTimeoutMs?: number;
}

/** Where a Cluster's control plane lives on the seed. */
export function namespaceOf(obj: ResourceObject): { name: string; labels: Record<string, string> } {
  const project = obj.metadata.namespace ?? '';
  const cluster = obj.metadata.name ?? '';
  return { name: controlPlaneNamespace(project, cluster), labels: controlPlaneLabels(project, cluster) };
}

const belongsTo = (labels: Readonly<Record<string, string>>, ours: Readonly<Record<string, string>>): boolean =>
  labels[PROJECT_LABEL] === ours[PROJECT_LABEL] && labels[CLUSTER_LABEL] === ours[CLUSTER_LABEL];

/** What the seed's answers said of its reachability during one run: the last word counts. */
class Reachability {
  unreachable: SeedUnreachableError | undefined;
  answered = false;

  constructor(private readonly server: string) {}

  /** `signal` is the step's: a call cut short by the step's timeout got no answer in time, which is unreachable too. */
  async track<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      const v = await call;
      this.answered = true;
      this.unreachable = undefined;
      return v;
    } catch (err) {
      if (err instanceof SeedUnreachableError) this.unreachable = err;
      else if (signal.aborted && signal.reason instanceof StepTimeoutError) this.unreachable = new SeedUnreachableError(this.server, signal.reason);
      // Cut short by the flow's abort (the object changed, the agent stops): that says nothing of the seed.
      else if (!signal.aborted) this.answered = true;
      throw err;
    }
  }

  /** SeedReachable, or nothing when no call got as far as the seed (the run was cut short first). */
  condition(generation: number): Condition | undefined {
    if (this.unreachable) return { type: 'SeedReachable', status: 'False', reason: 'Unreachable', message: this.unreachable.message, observedGeneration: generation };
    if (this.answered) return { type: 'SeedReachable', status: 'True', reason: 'Answered', message: 'the seed\'s Kubernetes API answers', observedGeneration: generation };
    return undefined;
  }
}

export class HostedClusterReconciler implements Reconciler {
  readonly name = 'hosted-control-plane';
  readonly kind = 'Cluster';
  private readonly deletePollMs: number;
  private readonly deleteTimeoutMs: number;
  private readonly stepTimeoutMs: number;

  constructor(private readonly o: HostedClusterOptions) {
    this.deletePollMs = o.deletePollMs ?? 1_000;
    this.deleteTimeoutMs = o.deleteTimeoutMs ?? 600_000;
    this.stepTimeoutMs = o.stepTimeoutMs ?? 60_000;
  }

  /** controlPlane.mode is fixed at creation (the hub refuses a change), so ownership never moves. */
  owns(obj: ResourceObject): boolean {
    return (obj as Cluster).spec?.controlPlane?.mode === 'hosted';
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const generation = obj.metadata.generation ?? 0;
    const ns = namespaceOf(obj);
    const seen = new Reachability(this.o.api.server);
    // The flow reports a step's failure by message; the reason a condition gives needs to know which it was.
    let taken: NamespaceTakenError | undefined;
    const namespaceStep: FlowStep = {
      name: 'namespace',
      timeoutMs: this.stepTimeoutMs,
      run: async (signal) => {
        const existing = await seen.track(this.o.api.getNamespace(ns.name, signal), signal);
        if (existing && !belongsTo(existing.labels, ns.labels)) throw (taken = new NamespaceTakenError(ns.name, existing.labels));
        // Applying to a Terminating namespace succeeds and is lost a moment later: wait for it to go first.
        if (existing?.phase === 'Terminating') throw new Error(`namespace ${ns.name} on the seed is still being deleted (an earlier cluster of this name); it is created again once it is gone`);
        await seen.track(this.o.api.applyNamespace(ns.name, ns.labels, signal), signal);
      },
    };
    // Later steps (the PKI's Secrets, etcd, kube-apiserver, ...) join this flow as they are built, each after "namespace".
    const flow = new Flow('hosted-control-plane', [namespaceStep]);
    try {
      await runFlow(flow, 'Reconcile', obj, ctx);
    } catch (err) {
      const reachable = seen.condition(generation);
      const conditions = [...(reachable ? [reachable] : [])];
      if (!seen.unreachable && !ctx.signal.aborted) conditions.push({ type: 'NamespaceReady', status: 'False', reason: taken ? 'NamespaceTaken' : 'NotApplied', message: flowMessage(err), observedGeneration: generation });
      // The phase stays Creating: the control plane is not there yet, and the queue retries with backoff.
      ctx.report({ phase: 'Creating', observedGeneration: generation, conditions });
      throw err;
    }
    const reachable = seen.condition(generation);
    return {
      status: {
        // Creating, not Running: the flow so far makes only the namespace, so no control plane answers yet.
        // The phase turns Running when the flow's later steps exist and the apiserver is ready.
        phase: 'Creating',
        observedGeneration: generation,
        conditions: [...(reachable ? [reachable] : []), { type: 'NamespaceReady', status: 'True', reason: 'Applied', message: `namespace ${ns.name} on the seed`, observedGeneration: generation }],
      },
    };
  }

  /** Deletes the namespace (the seed deletes everything in it) and returns only once the seed says it is gone. */
  async finalize(lastKnown: ResourceObject, ctx: ReconcileContext): Promise<void> {
    const generation = lastKnown.metadata.generation ?? 0;
    const ns = namespaceOf(lastKnown);
    const seen = new Reachability(this.o.api.server);
    const api = this.o.api;
    const deleteStep: FlowStep = {
      name: 'delete-namespace',
      timeoutMs: this.deleteTimeoutMs,
      run: async (signal) => {
        const existing = await seen.track(api.getNamespace(ns.name, signal), signal);
        if (!existing) return;
        // A namespace of this name that is not this cluster's is not this cluster's to delete.
        if (!belongsTo(existing.labels, ns.labels)) {
          ctx.log.warn({ namespace: ns.name, labels: existing.labels }, 'the seed namespace belongs to another cluster; left alone');
          return;
        }
        await seen.track(api.deleteNamespace(ns.name, signal), signal);
        while (await seen.track(api.getNamespace(ns.name, signal), signal)) await sleep(systemClock, this.deletePollMs, signal);
      },
    };
    ctx.report({ phase: 'Deleting' });
    try {
      await runFlow(new Flow('hosted-control-plane-delete', [deleteStep]), 'Delete', lastKnown, ctx);
    } catch (err) {
      const reachable = seen.condition(generation);
      if (reachable) ctx.report({ conditions: [reachable] });
      throw err;
    }
  }
}

/** A failed flow's message names the step and its error; anything else is its own message. */
function flowMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
