// Site mode, static workers of a control plane hosted on a seed (KKP's control plane with KubeOne's static
// workers): for each Cluster with controlPlane.mode hosted whose worker pools name this site's Hosts (the
// hub puts such a Cluster in this site's view for them), the site's agent joins them to the hosted API
// server with the kubeadm flow's own steps (kubeadm-run.ts). It holds no CA of that cluster: the hub
// delivers only the bootstrap token and the CA's hash (the seed agent derives the same token from the CA
// and keeps it in the hosted cluster), and the endpoint is the one the seed agent reported. Nothing
// reaches the site from outside: the hosts dial the endpoint. Where they cannot, EndpointReachable says
// so. This agent reports only its part of the status: the worker nodes and its own conditions
// (WorkersJoined, EndpointReachable); the hub keeps the seed's part apart (hub agent-status.ts).
import { normaliseVersion, releaseVersion, type Cluster, type Condition, type Release, type ResourceObject } from '@outpost/proto';
import { Flow, FlowFailedError } from '../engine/index.js';
import { runFlow } from '../reconcile/flow-run.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler, StatusPatch } from '../reconcile/reconciler.js';
import { keyOf, keyString } from '../state/local-state.js';
import { ClusterPlanError, workersPlan, type WorkersPlan } from './cluster-plan.js';
import { SiteReleaseError } from './errors.js';
import { HostSessions } from './host-sessions.js';
import { resetClusterHosts, type KubeadmClusterOptions } from './kubeadm-cluster-reconciler.js';
import { ENDPOINT_STEP, ENDPOINT_UNREACHABLE, KubeadmRun } from './kubeadm-run.js';
import { UploadSlots } from './upload-slots.js';

const cond = (type: string, status: 'True' | 'False', reason: string, message: string, observedGeneration: number): Condition => ({ type, status, reason, message, observedGeneration });

/** "https://10.0.0.9:30443" → "10.0.0.9:30443", as kubeadm join's apiServerEndpoint. */
export function joinEndpoint(endpoint: string): string | undefined {
  try {
    const u = new URL(endpoint);
    if (u.protocol !== 'https:' || !u.hostname) return undefined;
    return `${u.hostname}:${u.port || '443'}`;
  } catch {
    return undefined;
  }
}

export class HostedWorkersReconciler implements Reconciler {
  readonly name = 'hosted-workers';
  readonly kind = 'Cluster';
  /** The Cluster generations (uid/generation) whose workers this process last saw all Ready. */
  private readonly joinedGenerations = new Set<string>();

  private readonly uploads: UploadSlots;

  constructor(private readonly o: KubeadmClusterOptions) {
    this.uploads = o.uploads ?? new UploadSlots(o.uploadSlots);
  }

  /** controlPlane.mode is fixed at creation; a hosted Cluster reaches a site's view only for its workers. */
  owns(obj: ResourceObject): boolean {
    return (obj as Cluster).spec?.controlPlane?.mode === 'hosted';
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const cluster = obj as Cluster;
    const generation = obj.metadata.generation ?? 0;
    const uid = obj.metadata.uid ?? '';
    const joined = (status: 'True' | 'False', reason: string, message: string) => cond('WorkersJoined', status, reason, message, generation);
    const waiting = (conditions: Condition[], requeueAfterMs?: number): ReconcileOutcome => ({ status: { conditions }, ...(requeueAfterMs ? { requeueAfterMs } : {}) });
    const retryMs = this.o.keysRetryMs ?? 5_000;

    let plan: WorkersPlan;
    try {
      plan = workersPlan(cluster, ctx.view);
    } catch (err) {
      if (!(err instanceof ClusterPlanError)) throw err;
      return waiting([joined('False', 'HostsMissing', err.message)]);
    }
    if (!plan.all.length) return waiting([joined('True', 'NoWorkers', 'the Cluster lists no static workers at this site')]);
    const version = normaliseVersion(cluster.spec?.version);
    const release = ctx.view.list('Release').find((r) => releaseVersion(r as Release) === version) as Release | undefined;
    if (!release) return waiting([joined('False', 'ReleaseMissing', `no Release of Kubernetes ${version} at the hub: import one (outpost release import DIR), or set spec.version to one that exists (outpost get releases)`)]);
    // The seed agent reports the endpoint once its API server answers; that report changes the Cluster here.
    const endpoint = joinEndpoint(cluster.status?.endpoint ?? '');
    if (!endpoint) return waiting([joined('False', 'WaitingForControlPlane', 'waiting for the seed to report the hosted control plane\'s endpoint (status.endpoint)')], retryMs);
    const join = ctx.secrets.clusterJoin?.(uid);
    if (!join) return waiting([joined('False', 'JoinSecretsNotDelivered', 'waiting for the hub to deliver the join token and CA hash of this cluster\'s workers')], retryMs);
    if (!ctx.artifacts) throw new Error('static workers need the artifact cache of a site agent; this agent has none');

    const sessions = new HostSessions({ privateKey: this.o.privateKey, ...(this.o.connectTimeoutMs ? { connectTimeoutMs: this.o.connectTimeoutMs } : {}) });
    let run: KubeadmRun;
    try {
      run = new KubeadmRun({ cluster, plan, join, endpoint, release, artifacts: ctx.artifacts, sessions, uploads: this.uploads, pollMs: this.o.pollMs ?? 2_000, readyTimeoutMs: this.o.readyTimeoutMs ?? 300_000 });
    } catch (err) {
      if (!(err instanceof SiteReleaseError)) throw err;
      return waiting([joined('False', 'ReleaseIncomplete', err.message)]);
    }
    const flow = new Flow('hosted-workers', run.steps());
    // The flow's lastOperation is the seed's part of the status: this condition says the site's is under way
    // (not on a periodic check of workers already joined, which would make it flap).
    const seen = `${uid}/${generation}`;
    if (!this.joinedGenerations.has(seen)) ctx.report({ conditions: [joined('False', 'Joining', `joining ${plan.all.map((h) => h.name).join(', ')} to ${endpoint}`)] });
    try {
      await runFlow(flow, 'Reconcile', obj, ctx);
    } catch (err) {
      // The endpoint steps fail with EndpointUnreachable (kubeadm-run.ts), and so does nodes-ready when a
      // joined host has been cut off since: their hosts cannot dial the seed.
      const unreachable = err instanceof FlowFailedError ? err.errors.find((e) => e.step.startsWith(ENDPOINT_STEP) || e.message.includes(ENDPOINT_UNREACHABLE)) : undefined;
      const message = err instanceof Error ? err.message : String(err);
      const patch: StatusPatch = {
        ...(run.nodes.length ? { nodes: run.nodes } : {}),
        conditions: [
          joined('False', unreachable ? 'EndpointUnreachable' : 'Provisioning', message),
          ...(unreachable ? [cond('EndpointReachable', 'False', 'Unreachable', unreachable.message, generation)] : []),
        ],
      };
      ctx.report(patch);
      this.joinedGenerations.delete(seen);
      if (err instanceof FlowFailedError) ctx.journal.clear(`${keyString(keyOf(obj))}/${flow.name}`);
      throw err;
    } finally {
      sessions.closeAll();
    }
    this.joinedGenerations.add(seen);
    return {
      status: {
        nodes: run.nodes,
        conditions: [
          cond('EndpointReachable', 'True', 'Reachable', `every worker reaches ${endpoint}`, generation),
          joined('True', 'Ready', `${run.nodes.length} workers Ready: ${run.nodes.map((n) => `${n.host} (${n.version})`).join(', ')}`),
        ],
      },
      requeueAfterMs: this.o.healIntervalMs ?? 300_000,
    };
  }

  /** `kubeadm reset` on every worker: the hosted control plane itself is the seed agent's to delete. */
  finalize(lastKnown: ResourceObject, ctx: ReconcileContext): Promise<void> {
    for (const k of this.joinedGenerations) if (k.startsWith(`${lastKnown.metadata.uid ?? ''}/`)) this.joinedGenerations.delete(k);
    return resetClusterHosts(lastKnown as Cluster, ctx, this.o.privateKey);
  }
}
