// Site mode: for each Cluster with controlPlane.mode kubeadm, the site's agent makes a kubeadm cluster on
// the Hosts the Cluster names, over SSH (kubeadm-run.ts), from the Release's artifacts in its cache and
// the CAs the hub delivered. It runs again periodically, so a broken kubelet is put back; deleting the
// Cluster resets every host (behind the agent's finalizer) and leaves it as it was.
import { normaliseVersion, releaseVersion, type Cluster, type Condition, type Host, type Release, type ResourceObject } from '@outpost/proto';
import { Flow, FlowFailedError, type FlowStep } from '../engine/index.js';
import { phaseDuring, type ReportedPhase } from '../reconcile/cluster-phase.js';
import { runFlow } from '../reconcile/flow-run.js';
import type { HostRecord, HostRecords, ReconcileContext, ReconcileOutcome, Reconciler } from '../reconcile/reconciler.js';
import { keyOf, keyString } from '../state/local-state.js';
import { clusterPlan, ClusterPlanError, type ClusterPlan, type PlannedHost } from './cluster-plan.js';
import { SiteReleaseError } from './errors.js';
import { HostSessions } from './host-sessions.js';
import { sshTargetOf } from './host-target.js';
import { DEFAULT_POD_CIDR, KubeadmRun } from './kubeadm-run.js';
import { KubeadmRemoval } from './kubeadm-remove.js';
import { resetScript } from './kubeadm-reset.js';
import { KubeadmUpgrade } from './kubeadm-upgrade.js';
import { parseRecordedTarget, recordedTarget, removalPlan, type RemovalPlan, type RemovedHost } from './removal-plan.js';
import type { SshTarget } from './ssh/ssh-session.js';
import { parseNodes, upgradeWanted } from './upgrade-plan.js';
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
  /** How long a worker's drain (for an upgrade, or the worker taken out of the Cluster) may take before its step fails and is tried again. Default 5 minutes. */
  drainTimeoutMs?: number;
}

/** The condition that says how taking hosts out of the Cluster went. */
export const HOSTS_REMOVED = 'HostsRemoved';

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
    const records = ctx.hosts;
    if (!records) throw new Error("a kubeadm cluster needs the agent's record of the hosts it set up (local state); this agent keeps none");
    const clusterRef = { uid, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
    const record = (h: PlannedHost, joined: boolean): void => {
      const was = records.list(uid).find((r) => r.host === h.name);
      records.put(clusterRef, { host: h.name, role: h.role, joined: joined || (was?.joined ?? false), target: recordedTarget(h.target) });
    };
    let run: KubeadmRun;
    try {
      run = new KubeadmRun({ cluster, plan, release, keys, artifacts: ctx.artifacts, sessions, uploads: this.uploads, pollMs: this.o.pollMs ?? 2_000, readyTimeoutMs: this.o.readyTimeoutMs ?? 300_000, record });
    } catch (err) {
      if (!(err instanceof SiteReleaseError)) throw err;
      return waiting([cond('ReleaseReady', 'False', 'ReleaseIncomplete', err.message, generation)]);
    }
    const releaseReady = cond('ReleaseReady', 'True', 'Found', `Release ${release.metadata.name}`, generation);
    ctx.report({ phase, observedGeneration: generation, conditions: [releaseReady, cond('PKIReady', 'True', 'Delivered', "the hub's CAs", generation)] });
    const flow = new Flow('kubeadm', run.steps());
    try {
      return await this.runFlows(cluster, plan, run, flow, sessions, records, releaseReady, ctx);
    } finally {
      sessions.closeAll();
    }
  }

  /**
   * The flows of one reconcile, in order: a control-plane host taken out refuses them all; an upgrade that
   * is due; the cluster's own flow; then the workers the Cluster let go.
   */
  private async runFlows(cluster: Cluster, plan: ClusterPlan, run: KubeadmRun, flow: Flow, sessions: HostSessions, records: HostRecords, releaseReady: Condition, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const obj = cluster;
    const generation = obj.metadata.generation ?? 0;
    const uid = obj.metadata.uid ?? '';
    let phase = phaseDuring(obj, this.reported.get(uid));
    const waiting = (conditions: Condition[]): ReconcileOutcome => ({ status: { phase, observedGeneration: generation, conditions } });
    let removal: RemovalPlan | undefined;
    try {
      removal = await this.removalOf(cluster, plan, run, records.list(uid), ctx);
      if (removal?.controlPlane.length) {
        const names = removal.controlPlane.map((h) => h.name);
        return waiting([cond(HOSTS_REMOVED, 'False', 'ControlPlaneRemovalUnsupported', `control-plane host${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'were' : 'was'} taken out of spec.controlPlane.hosts, and Outpost does not remove control-plane members (etcd must lose the member first); nothing was done. Put ${names.join(', ')} back in spec.controlPlane.hosts; to take one out anyway, on it run \`kubeadm reset -f\` (which removes its etcd member), then \`kubectl delete node NAME\`: once its node is gone the agent resets the host and forgets it. Or delete the Cluster`, generation)]);
      }
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
    }
    const nodesReady = cond('NodesReady', 'True', 'Ready', `${run.nodes.length} nodes Ready: ${run.nodes.map((n) => `${n.host} (${n.role}, ${n.version})`).join(', ')}`, generation);
    // After the cluster's own flow: taking a worker out needs the cluster's API, which that flow repairs.
    if (removal?.workers.length) await this.removeWorkers(cluster, plan, run, sessions, removal.workers, [releaseReady, nodesReady], (h) => records.remove(uid, h.name), ctx);
    this.reported.set(uid, { phase: 'Running', generation });
    return {
      status: {
        phase: 'Running',
        observedGeneration: generation,
        endpoint: `https://${plan.init.address}:6443`,
        nodes: run.nodes,
        conditions: [releaseReady, nodesReady],
      },
      requeueAfterMs: this.o.healIntervalMs ?? 300_000,
    };
  }

  /**
   * The hosts the Cluster let go (removal-plan.ts), from the agent's record and the view's status.nodes;
   * the cluster's node list is asked for (through the first control-plane host) only when there are some.
   */
  private async removalOf(cluster: Cluster, plan: ClusterPlan, run: KubeadmRun, recorded: HostRecord[], ctx: ReconcileContext): Promise<RemovalPlan | undefined> {
    const planned = new Set(plan.all.map((h) => h.name));
    const reported = cluster.status?.nodes ?? [];
    if (!recorded.some((r) => !planned.has(r.host)) && !reported.some((n) => n.host && !planned.has(n.host))) return undefined;
    const json = await run.nodeList(ctx.signal);
    const nodes = json === undefined ? undefined : new Set(parseNodes(json).keys());
    const targetOf = (name: string): SshTarget | undefined => {
      const h = ctx.view.get({ kind: 'Host', namespace: '', name }) as Host | undefined;
      return h ? sshTargetOf(h) : undefined;
    };
    return removalPlan({ planned, recorded, reported, nodes, targetOf });
  }

  /** The removal flow (kubeadm-remove.ts): status.nodes names each host as Removing until it is reset. */
  private async removeWorkers(cluster: Cluster, plan: ClusterPlan, run: KubeadmRun, sessions: HostSessions, hosts: RemovedHost[], conditions: Condition[], forget: (h: RemovedHost) => void, ctx: ReconcileContext): Promise<void> {
    const generation = cluster.metadata.generation ?? 0;
    const removing = new Set(hosts.map((h) => h.name));
    const removal = new KubeadmRemoval({
      plan,
      run,
      sessions,
      hosts,
      podCidr: cluster.spec?.network?.podCidr || DEFAULT_POD_CIDR,
      ...(this.o.drainTimeoutMs ? { drainTimeoutMs: this.o.drainTimeoutMs } : {}),
      onRemoved: (h) => {
        forget(h);
        removing.delete(h.name);
        ctx.report({ nodes: [...run.nodes, ...removal.nodes().filter((n) => removing.has(n.host ?? ''))] });
      },
    });
    const names = hosts.map((h) => h.name).join(', ');
    ctx.report({ nodes: [...run.nodes, ...removal.nodes()], conditions: [...conditions, cond(HOSTS_REMOVED, 'False', 'Removing', `taking ${names} out of the cluster: drain, delete the node, reset the host`, generation)] });
    const flow = new Flow('kubeadm-remove', removal.steps());
    try {
      await runFlow(flow, 'Remove', cluster, ctx);
    } catch (err) {
      ctx.report({ conditions: [cond(HOSTS_REMOVED, 'False', 'RemoveFailed', `taking ${names} out of the cluster failed: ${err instanceof Error ? err.message : String(err)}; see lastErrors, it is tried again`, generation)] });
      if (err instanceof FlowFailedError) ctx.journal.clear(`${keyString(keyOf(cluster))}/${flow.name}`);
      throw err;
    }
    const unreachable = hosts.filter((h) => !h.target).map((h) => h.name);
    ctx.report({
      conditions: [
        unreachable.length
          ? cond(HOSTS_REMOVED, 'False', 'NotReset', `${unreachable.join(', ')}: node drained and deleted, but the host was not reset, because its Host is gone from the hub and this agent recorded no SSH address for it. On the host run \`kubeadm reset -f\`, \`systemctl disable --now kubelet containerd\` and \`rm -rf /etc/kubernetes /var/lib/kubelet /var/lib/etcd /var/lib/outpost\``, generation)
          : cond(HOSTS_REMOVED, 'True', 'Removed', `${names}: drained, node deleted, host reset`, generation),
      ],
    });
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
    const upgrade = new KubeadmUpgrade({ plan, run, readyTimeoutMs: this.o.readyTimeoutMs ?? 300_000, ...(this.o.drainTimeoutMs ? { drainTimeoutMs: this.o.drainTimeoutMs } : {}), onNodes: (nodes) => ctx.report({ nodes }) });
    const flow = new Flow('kubeadm-upgrade', upgrade.steps());
    const record = ctx.journal.load(`${keyString(keyOf(cluster))}/${flow.name}`);
    const resuming = record?.revision === String(generation);
    const nodes = resuming ? [] : ((await upgrade.currentNodes(ctx.signal)) ?? cluster.status?.nodes ?? []);
    return upgradeWanted({ nodes, target: upgrade.target, resuming }) ? flow : undefined;
  }

  /** `kubeadm reset` and Outpost's cleanup on every host the Cluster named or the agent set up for it; each host on its own, all at once. */
  finalize(lastKnown: ResourceObject, ctx: ReconcileContext): Promise<void> {
    return resetClusterHosts(lastKnown as Cluster, ctx, this.o.privateKey);
  }
}

/**
 * `kubeadm reset` and Outpost's cleanup on every host `cluster` names (control plane and workers) and
 * every host the agent recorded setting up for it, each host on its own, all at once. A Host gone from the
 * view is reached where the agent recorded it; one with no record either is named in the log and skipped.
 */
export async function resetClusterHosts(cluster: Cluster, ctx: ReconcileContext, privateKey: string): Promise<void> {
  const lastKnown = cluster;
  const recorded = ctx.hosts?.list(cluster.metadata.uid ?? '') ?? [];
  const names = [...new Set([...(cluster.spec?.controlPlane?.hosts ?? []), ...(cluster.spec?.workers ?? []).flatMap((w) => w.hosts ?? []), ...recorded.map((r) => r.host)])];
  const hosts = names.flatMap((name) => {
    const h = ctx.view.get({ kind: 'Host', namespace: '', name }) as Host | undefined;
    const r = recorded.find((x) => x.host === name);
    const target = h ? sshTargetOf(h) : r && parseRecordedTarget(r.target);
    // A Host deleted before its Cluster, and never recorded: nothing the agent can reach; say so and go on.
    if (!target) ctx.log.warn({ cluster: keyString(keyOf(lastKnown)), host: name }, `host ${name} is gone from the view and this agent recorded no address for it: it is not reset, and may still run this cluster's kubelet`);
    return target ? [target] : [];
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
