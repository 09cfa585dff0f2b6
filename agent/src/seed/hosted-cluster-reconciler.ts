// The hosted control plane: for each Cluster with controlPlane.mode hosted, a flow through the seed's
// Kubernetes API in Gardener's order (namespace, services, PKI, etcd, kube-apiserver, then the
// controller-manager and scheduler), made from the images of the Cluster's Release and the CAs the hub
// delivered. A watch of what it made (seed-watch.ts) runs a Cluster again as soon as another hand changes
// it, so drift is put back within seconds; a periodic run stays as a safety net and renews leaf
// certificates in time.
// Deleting the Cluster deletes the namespace, and the finalizer is released only once the seed says it is gone.
import type { Cluster, Condition, ResourceObject } from '@outpost/proto';
import { Flow, FlowFailedError, sleep, StepTimeoutError, systemClock, type FlowStep } from '../engine/index.js';
import { phaseDuring, type ReportedPhase } from '../reconcile/cluster-phase.js';
import { runFlow } from '../reconcile/flow-run.js';
import { keyOf, keyString } from '../state/local-state.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../reconcile/reconciler.js';
import type { ObjectKey } from '../state/local-state.js';
import { ControlPlaneRun } from './control-plane-run.js';
import { controlPlaneInputs, type ControlPlaneInputs } from './control-plane-inputs.js';
import { ReleaseProblemError, SeedUnreachableError } from './errors.js';
import { DEFAULT_LEAF_LIFETIME_MS } from './leaf-pki.js';
import { CLUSTER_LABEL, controlPlaneLabels, controlPlaneNamespace, PROJECT_LABEL } from './namespace-name.js';
import { probeReadyz, type ReadyzProbe } from './readyz.js';
import type { SeedApi } from './seed-api.js';
import type { DriftWatch } from './seed-watch.js';

export interface HostedClusterOptions {
  api: SeedApi;
  /** The Seed this agent serves (its view "seed/<name>"): its spec.endpointServiceType says how API servers are exposed. */
  seedName?: string;
  /** How long a step that only talks to the seed waits before that attempt fails as unreachable. Default 60 s. */
  stepTimeoutMs?: number;
  /** How long a step waits for its component to be ready before the attempt fails (and is retried). Default 5 minutes. */
  readyTimeoutMs?: number;
  /** How often a waiting step looks again. Default 1 s. */
  pollMs?: number;
  /** Lifetime of the leaf certificates the agent signs; each is renewed at 2/3 of it. Default 1 year. */
  leafLifetimeMs?: number;
  /**
   * How often a Running control plane is checked again although the watch saw nothing: a safety net for
   * what a watch cannot see (a seed that lost events). Default 5 minutes.
   */
  healIntervalMs?: number;
  /** The watch of the objects the agent made; without one, drift is found by the periodic run only. */
  watch?: DriftWatch;
  /** How often a cluster whose CAs the hub has not delivered yet is looked at again. Default 5 s. */
  keysRetryMs?: number;
  /** How often a deletion looks whether the namespace is gone yet. Default 1 s. */
  deletePollMs?: number;
  /** How long one attempt waits for the namespace to go before it fails (and is retried with backoff). Default 10 minutes. */
  deleteTimeoutMs?: number;
  /** Asks an endpoint's /readyz; default over HTTPS with the cluster CA. */
  probe?: ReadyzProbe;
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
  private readonly readyTimeoutMs: number;
  private readonly pollMs: number;
  private readonly leafLifetimeMs: number;
  private readonly healIntervalMs: number;
  private readonly keysRetryMs: number;

  /**
   * The phase this process last reported for each Cluster (by uid): the view's copy of the status may lag
   * behind it, or carry none.
   */
  private readonly reported = new Map<string, ReportedPhase>();

  constructor(private readonly o: HostedClusterOptions) {
    this.deletePollMs = o.deletePollMs ?? 1_000;
    this.deleteTimeoutMs = o.deleteTimeoutMs ?? 600_000;
    this.stepTimeoutMs = o.stepTimeoutMs ?? 60_000;
    this.readyTimeoutMs = o.readyTimeoutMs ?? 300_000;
    this.pollMs = o.pollMs ?? 1_000;
    this.leafLifetimeMs = o.leafLifetimeMs ?? DEFAULT_LEAF_LIFETIME_MS;
    this.healIntervalMs = o.healIntervalMs ?? 300_000;
    this.keysRetryMs = o.keysRetryMs ?? 5_000;
  }

  async start(requeue: (key: ObjectKey) => void): Promise<void> {
    await this.o.watch?.start(requeue);
  }

  async stop(): Promise<void> {
    await this.o.watch?.stop();
  }

  /** controlPlane.mode is fixed at creation (the hub refuses a change), so ownership never moves. */
  owns(obj: ResourceObject): boolean {
    return (obj as Cluster).spec?.controlPlane?.mode === 'hosted';
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const generation = obj.metadata.generation ?? 0;
    const ns = namespaceOf(obj);
    const seen = new Reachability(this.o.api.server);
    let inputs: ControlPlaneInputs | undefined;
    let releaseProblem: ReleaseProblemError | undefined;
    try {
      inputs = controlPlaneInputs(obj as Cluster, ctx.view, this.o.seedName);
    } catch (err) {
      if (!(err instanceof ReleaseProblemError)) throw err;
      releaseProblem = err;
    }
    const uid = obj.metadata.uid ?? '';
    const phase = phaseDuring(obj, this.reported.get(uid));
    this.reported.set(uid, { phase, generation });
    if (!inputs) {
      // Nothing can be made without images. A change to a Release requeues the Clusters of its version.
      ctx.report({ phase, observedGeneration: generation, conditions: [{ type: 'ReleaseReady', status: 'False', reason: 'ReleaseMissing', message: releaseProblem?.message ?? '', observedGeneration: generation }] });
      throw releaseProblem;
    }
    const releaseReady: Condition = { type: 'ReleaseReady', status: 'True', reason: 'Found', message: `images of Kubernetes ${inputs.version}: ${Object.entries(inputs.images).map(([c, i]) => `${c} ${i}`).join(', ')}`, observedGeneration: generation };
    ctx.report({ phase, observedGeneration: generation, conditions: [releaseReady] });
    // What the watch saw changed by another hand: this run puts it back, and its conditions say so.
    const drift = this.o.watch?.notes(keyOf(obj)) ?? [];
    const run = new ControlPlaneRun(
      { api: this.o.api, stepTimeoutMs: this.stepTimeoutMs, readyTimeoutMs: this.readyTimeoutMs, pollMs: this.pollMs, leafLifetimeMs: this.leafLifetimeMs, probe: this.o.probe ?? probeReadyz },
      obj, inputs, ns, ctx, (call, signal) => seen.track(call, signal), () => seen.condition(generation), drift,
    );
    const flow = new Flow('hosted-control-plane', run.steps());
    try {
      await runFlow(flow, 'Reconcile', obj, ctx);
    } catch (err) {
      const reachable = seen.condition(generation);
      const conditions = [...(reachable ? [reachable] : [])];
      if (!seen.unreachable && !ctx.signal.aborted && run.failed.has('namespace')) conditions.push({ type: 'NamespaceReady', status: 'False', reason: run.taken ? 'NamespaceTaken' : 'NotApplied', message: flowMessage(err), observedGeneration: generation });
      ctx.report({ phase, observedGeneration: generation, conditions });
      // Waiting for the hub's delivery is not a fault to back off from: look again at a steady pace.
      // A run that failed (the agent lives on) starts the next one over: every step is cheap and idempotent,
      // and what an earlier step made may be gone meanwhile (a namespace deleted by hand). The journal's place
      // is kept only for a run cut short, and for a kill -9, which never gets here.
      if (err instanceof FlowFailedError) ctx.journal.clear(`${keyString(keyOf(obj))}/${flow.name}`);
      if (run.keysMissing && !ctx.signal.aborted) return { requeueAfterMs: this.keysRetryMs };
      // The queue retries with backoff; the conditions say what is wrong.
      throw err;
    }
    this.reported.set(uid, { phase: 'Running', generation });
    this.o.watch?.settle(keyOf(obj), drift);
    const reachable = seen.condition(generation);
    const untilRenewal = run.learned.renewAt ? Math.max(1_000, run.learned.renewAt.getTime() - Date.now()) : this.healIntervalMs;
    return {
      status: {
        phase: 'Running',
        observedGeneration: generation,
        ...(run.learned.endpoint ? { endpoint: run.learned.endpoint } : {}),
        conditions: [...(reachable ? [reachable] : []), releaseReady, ...run.conditionList()],
      },
      // The watch requeues on drift; this is the safety net, and the renewal of a leaf when it is due.
      requeueAfterMs: Math.min(this.healIntervalMs, untilRenewal),
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
      this.reported.delete(lastKnown.metadata.uid ?? '');
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
