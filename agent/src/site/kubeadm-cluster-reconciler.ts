// Site mode: for each Cluster with controlPlane.mode kubeadm, the site's agent makes a kubeadm cluster on
// the Hosts the Cluster names, over SSH (kubeadm-run.ts), from the Release's artifacts in its cache and
// the CAs the hub delivered. It runs again periodically, so a broken kubelet is put back; deleting the
// Cluster resets every host (behind the agent's finalizer) and leaves it as it was.
import { normaliseVersion, releaseVersion, type Cluster, type Condition, type Host, type Release, type ResourceObject } from '@outpost/proto';
import { Flow, FlowFailedError, type FlowStep } from '../engine/index.js';
import { phaseDuring, type ReportedPhase } from '../reconcile/cluster-phase.js';
import { runFlow } from '../reconcile/flow-run.js';
import type { ReconcileContext, ReconcileOutcome, Reconciler } from '../reconcile/reconciler.js';
import { keyOf, keyString } from '../state/local-state.js';
import { clusterPlan, ClusterPlanError, type ClusterPlan } from './cluster-plan.js';
import { SiteReleaseError } from './errors.js';
import { HostSessions } from './host-sessions.js';
import { sshTargetOf } from './host-target.js';
import { DEFAULT_POD_CIDR, KubeadmRun } from './kubeadm-run.js';
import { resetScript } from './kubeadm-reset.js';
import { KubeadmUpgrade } from './kubeadm-upgrade.js';
import { upgradeWanted } from './upgrade-plan.js';
import { UploadSlots } from './upload-slots.js';

export interface KubeadmClusterOptions {
  /** The agent's OpenSSH private key. */
  privateKey: string;
  /**
   * How often a Running cluster is checked and a broken node put back. Default 5 minutes: each check
   * probes every host and verifies every installed file's digest there.
   */
  healIntervalMs?: number;
  /** How often a cluster whose CAs the hub has not delivered yet is looked at again. Default 5 s. */
  keysRetryMs?: number;
  /** How often a waiting step looks again. Default 2 s. */
  pollMs?: number;
  /** How long the nodes may take to be Ready after their joins. Default 5 minutes. */
  readyTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Artifact uploads at once, over every cluster and host (upload-slots.ts says why). Default 1. */
  uploadSlots?: number;
  /** The slots themselves, to share one bound between the reconcilers of one agent. Default: its own, of uploadSlots. */
  uploads?: UploadSlots;
}

const cond = (type: string, status: 'True' | 'False', reason: string, message: string, observedGeneration: number): Condition => ({ type, status, reason, message, observedGeneration });

export class KubeadmClusterReconciler implements Reconciler {
  readonly name = 'kubeadm';
  readonly kind = 'Cluster';
  private readonly reported = new Map<string, ReportedPhase>();
  private readonly uploads: UploadSlots;

  constructor(private readonly o: KubeadmClusterOptions) {
    this.uploads = o.uploads ?? new UploadSlots(o.uploadSlots);
  }

  /** controlPlane.mode is fixed at creation (the hub refuses a change), so ownership never moves. */
  owns(obj: ResourceObject): boolean {
    return (obj as Cluster).spec?.controlPlane?.mode === 'kubeadm';
  }

  async reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const cluster = obj as Cluster;
    const generation = obj.metadata.generation ?? 0;
    const uid = obj.metadata.uid ?? '';
    let phase = phaseDuring(obj, this.reported.get(uid));
    this.reported.set(uid, { phase, generation });
    const waiting = (conditions: Condition[], requeueAfterMs?: number): ReconcileOutcome => ({ status: { phase, observedGeneration: generation, conditions }, ...(requeueAfterMs ? { requeueAfterMs } : {}) });

    let plan: ClusterPlan;
    try {
      plan = clusterPlan(cluster, ctx.view);
    } catch (err) {
      if (!(err instanceof ClusterPlanError)) throw err;
      // A change to the Cluster or a Host requeues it.
      return waiting([cond('HostsReady', 'False', 'HostsMissing', err.message, generation)]);
    }
    const version = normaliseVersion(cluster.spec?.version);
    const release = ctx.view.list('Release').find((r) => releaseVersion(r as Release) === version) as Release | undefined;
    if (!release) return waiting([cond('ReleaseReady', 'False', 'ReleaseMissing', `no Release of Kubernetes ${version} at the hub: import one (outpost release import DIR), or set spec.version to one that exists (outpost get releases)`, generation)]);
    const keys = ctx.secrets.clusterKeys(uid);
    if (!keys) return waiting([cond('PKIReady', 'False', 'KeysNotDelivered', "waiting for the hub to deliver the cluster's CAs (the hub is their CA of record)", generation)], this.o.keysRetryMs ?? 5_000);
    if (!ctx.artifacts) throw new Error('a kubeadm cluster needs the artifact cache of a site agent; this agent has none');

    const sessions = new HostSessions({ privateKey: this.o.privateKey, ...(this.o.connectTimeoutMs ? { connectTimeoutMs: this.o.connectTimeoutMs } : {}) });
    let run: KubeadmRun;
    try {
      run = new KubeadmRun({ cluster, plan, release, keys, artifacts: ctx.artifacts, sessions, uploads: this.uploads, pollMs: this.o.pollMs ?? 2_000, readyTimeoutMs: this.o.readyTimeoutMs ?? 300_000 });
    } catch (err) {
      if (!(err instanceof SiteReleaseError)) throw err;
      return waiting([cond('ReleaseReady', 'False', 'ReleaseIncomplete', err.message, generation)]);
    }
    const releaseReady = cond('ReleaseReady', 'True', 'Found', `Release ${release.metadata.name}`, generation);
    ctx.report({ phase, observedGeneration: generation, conditions: [releaseReady, cond('PKIReady', 'True', 'Delivered', "the hub's CAs", generation)] });
    const flow = new Flow('kubeadm', run.steps());
    try {
      const upgrade = await this.upgradeDue(cluster, plan, run, ctx);
      if (upgrade) {
        // Updating, whatever this process knew before (a kill -9 forgets what it reported).
        phase = 'Updating';
        this.reported.set(uid, { phase, generation });
        ctx.report({ phase, observedGeneration: generation });
        await runFlow(upgrade, 'Upgrade', obj, ctx);
      }
      await runFlow(flow, 'Reconcile', obj, ctx);
    } catch (err) {
      ctx.report({ phase, observedGeneration: generation, ...(run.nodes.length ? { nodes: run.nodes } : {}), conditions: [cond('NodesReady', 'False', 'Provisioning', err instanceof Error ? err.message : String(err), generation)] });
      // A failed run starts over next time (every step checks its host first); a kill -9 never gets here,
      // so its journal resumes at the step it was on.
      if (err instanceof FlowFailedError) ctx.journal.clear(`${keyString(keyOf(obj))}/${flow.name}`);
      throw err;
    } finally {
      sessions.closeAll();
    }
    this.reported.set(uid, { phase: 'Running', generation });
    return {
      status: {
        phase: 'Running',
        observedGeneration: generation,
        endpoint: `https://${plan.init.address}:6443`,
        nodes: run.nodes,
        conditions: [releaseReady, cond('NodesReady', 'True', 'Ready', `${run.nodes.length} nodes Ready: ${run.nodes.map((n) => `${n.host} (${n.role}, ${n.version})`).join(', ')}`, generation)],
      },
      requeueAfterMs: this.o.healIntervalMs ?? 300_000,
    };
  }

  /**
   * A Running cluster whose spec.version moved is upgraded host by host (kubeadm-upgrade.ts) before the
   * kubeadm flow runs: that flow installs the Release on every host at once, which is right for a new
   * host and wrong for a node still at the old version. A failed upgrade keeps its journal, so the next
   * attempt retries the step that failed, and the hosts done before it stay done. This returns that flow
   * when an upgrade is due: a node of the cluster (as its API says now) is at another version, or the
   * journal holds an upgrade of this generation under way.
   */
  private async upgradeDue(cluster: Cluster, plan: ClusterPlan, run: KubeadmRun, ctx: ReconcileContext): Promise<Flow | undefined> {
    const generation = cluster.metadata.generation ?? 0;
    const upgrade = new KubeadmUpgrade({ plan, run, readyTimeoutMs: this.o.readyTimeoutMs ?? 300_000, onNodes: (nodes) => ctx.report({ nodes }) });
    const flow = new Flow('kubeadm-upgrade', upgrade.steps());
    const record = ctx.journal.load(`${keyString(keyOf(cluster))}/${flow.name}`);
    const resuming = record?.revision === String(generation);
    const nodes = resuming ? [] : ((await upgrade.currentNodes(ctx.signal)) ?? cluster.status?.nodes ?? []);
    return upgradeWanted({ nodes, target: upgrade.target, resuming }) ? flow : undefined;
  }

  /** `kubeadm reset` and Outpost's cleanup on every host the Cluster named; each host on its own, all at once. */
  finalize(lastKnown: ResourceObject, ctx: ReconcileContext): Promise<void> {
    return resetClusterHosts(lastKnown as Cluster, ctx, this.o.privateKey);
  }
}

/**
 * `kubeadm reset` and Outpost's cleanup on every host `cluster` names (control plane and workers), each
 * host on its own, all at once. A Host gone from the view is named in the log and skipped.
 */
export async function resetClusterHosts(cluster: Cluster, ctx: ReconcileContext, privateKey: string): Promise<void> {
  const lastKnown = cluster;
  const names = [...(cluster.spec?.controlPlane?.hosts ?? []), ...(cluster.spec?.workers ?? []).flatMap((w) => w.hosts ?? [])];
  const hosts = names.flatMap((name) => {
    const h = ctx.view.get({ kind: 'Host', namespace: '', name }) as Host | undefined;
    // A Host deleted before its Cluster: nothing the agent can reach to reset; say so and go on.
    if (!h) ctx.log.warn({ cluster: keyString(keyOf(lastKnown)), host: name }, `host ${name} is gone from the view: it is not reset, and may still run this cluster's kubelet`);
    return h ? [sshTargetOf(h)] : [];
  });
  if (!hosts.length) return;
  const sessions = new HostSessions({ privateKey });
  const script = resetScript(cluster.spec?.network?.podCidr || DEFAULT_POD_CIDR);
  const steps: FlowStep[] = hosts.map((target) => ({
    name: `reset:${target.host}`,
    host: target.host,
    timeoutMs: 5 * 60_000,
    retry: { attempts: 4, baseMs: 2_000, capMs: 15_000 },
    run: async (signal) => {
      const s = await sessions.get(target, signal);
      await s.run(script, { signal, timeoutMs: 4 * 60_000 });
    },
  }));
  try {
    await runFlow(new Flow('kubeadm-reset', steps), 'Delete', lastKnown, ctx);
  } finally {
    sessions.closeAll();
  }
}
