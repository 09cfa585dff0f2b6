// The upgrade of a Running kubeadm cluster to its Cluster's new spec.version, over SSH, in the order
// upgrade-plan.ts gives: the new Release's images on every host; `kubeadm upgrade apply` on the first
// control-plane host, then its kubelet; `kubeadm upgrade node` on the other control-plane hosts; each worker
// in turn drained, `kubeadm upgrade node`, its new kubelet, uncordoned. Each step looks at its node first and
// does only what is left, so a step retried (or a run resumed from the journal after a kill -9) goes on from
// where it stopped, and a host at the new version is never touched again.
import type { NodeState } from '@outpost/proto';
import type { FlowStep } from '../engine/index.js';
import type { ClusterPlan, PlannedHost } from './cluster-plan.js';
import { ADMIN_CONF, nodeStates, OUTPOST_DIR, SSH_RETRY, type KubeadmRun } from './kubeadm-run.js';
import type { SshSession } from './ssh/ssh-session.js';
import { shJoin } from './ssh/shell-quote.js';
import { applyNeeded, clusterConfigurationForUpgrade, DRAINED_ANNOTATION, hostUpgradeAction, parseNodes, upgradeSteps, type NodeSnapshot, type UpgradeStepPlan } from './upgrade-plan.js';

export interface KubeadmUpgradeInputs {
  plan: ClusterPlan;
  /** The run of the new Release (its install plan, images, sessions). */
  run: KubeadmRun;
  /** How long a node may take to be Ready at the new version after its kubelet restarted. */
  readyTimeoutMs: number;
  /** How long a worker's drain may take before the step fails (and is tried again). Default 5 minutes. */
  drainTimeoutMs?: number;
  /** Called with every host's node whenever the upgrade has looked at them: status.nodes as the upgrade moves. */
  onNodes: (nodes: NodeState[]) => void;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 5 * 60_000;

interface ConfigMap {
  metadata?: Record<string, unknown>;
  data?: Record<string, string>;
}

export class KubeadmUpgrade {
  /** "v1.34.4": what kubelet and kubeadm call the target. */
  readonly target: string;

  constructor(private readonly i: KubeadmUpgradeInputs) {
    this.target = i.run.images.kubernetesVersion;
  }

  steps(): FlowStep[] {
    return upgradeSteps(this.i.plan).map((p) => ({
      name: p.name,
      host: p.host,
      dependsOn: p.dependsOn,
      timeoutMs: p.kind === 'images' ? 15 * 60_000 : 30 * 60_000,
      retry: SSH_RETRY,
      run: (signal) => this.runStep(p, signal),
    }));
  }

  private host(name: string): PlannedHost {
    return this.i.plan.all.find((h) => h.name === name)!;
  }

  private runStep(p: UpgradeStepPlan, signal: AbortSignal): Promise<void> {
    const h = this.host(p.host);
    switch (p.kind) {
      case 'images':
        return this.images(h, signal);
      case 'apply':
        return this.upgradeHost(h, 'apply', signal);
      case 'control-plane':
        return this.upgradeHost(h, 'node', signal);
      case 'worker':
        return this.upgradeWorker(h, signal);
    }
  }

  /** kubectl on the first control-plane host, with its admin kubeconfig. */
  private async kubectl(args: string[], signal: AbortSignal, timeoutMs = 60_000): Promise<string> {
    const s = await this.i.run.session(this.i.plan.init, signal);
    return s.run(shJoin([`${this.i.run.paths.binDir}/kubectl`, '--kubeconfig', ADMIN_CONF, '--request-timeout', '20s', ...args]), { signal, timeoutMs });
  }

  /**
   * Every host's node as the cluster says now, or undefined when its API does not answer (a cluster not
   * made yet, or down): what decides whether an upgrade is due, since the host is the record.
   */
  async currentNodes(signal: AbortSignal): Promise<NodeState[] | undefined> {
    const json = await this.i.run.nodeList(signal);
    return json === undefined ? undefined : nodeStates(json, this.i.plan);
  }

  /** Every host's node now, reported as status.nodes; and the one of `name`. */
  private async node(name: string, signal: AbortSignal): Promise<NodeSnapshot | undefined> {
    const json = await this.kubectl(['get', 'nodes', '-o', 'json'], signal);
    this.i.onNodes(nodeStates(json, this.i.plan));
    return parseNodes(json).get(name);
  }

  /** The new Release's images (and kubeadm's aliases of them) imported on the host; nothing else changes there yet. */
  private async images(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const plan = await this.i.run.installPlanOf(h, signal);
    const s = await this.i.run.session(h, signal);
    await s.run(shJoin(['mkdir', '-p', OUTPOST_DIR, this.i.run.paths.stagingDir]), { signal });
    for (const step of plan.images) await this.i.run.runInstallStep(s, step, signal);
  }

  /**
   * Installs the new Release's binaries on the host: kubeadm alone (`only`), or all the rest (kubelet,
   * kubectl, CNI plugins). Each is renamed into place, so a running kubelet keeps its old binary until
   * it is restarted.
   */
  private async installBinaries(h: PlannedHost, s: SshSession, only: 'kubeadm' | 'rest', signal: AbortSignal): Promise<void> {
    const plan = await this.i.run.installPlanOf(h, signal);
    for (const step of plan.files) {
      const isKubeadm = step.id === 'binary/kubeadm';
      if (step.id === 'dirs' || (only === 'kubeadm') === isKubeadm) await this.i.run.runInstallStep(s, step, signal);
    }
  }

  /** The new kubelet and kubectl, kubelet restarted on them, and its node Ready at the target. */
  private async restartKubelet(h: PlannedHost, s: SshSession, signal: AbortSignal): Promise<void> {
    await this.installBinaries(h, s, 'rest', signal);
    await s.run('systemctl daemon-reload && systemctl restart kubelet', { signal });
    await this.i.run.until(signal, `node ${h.name} Ready at ${this.target}`, async () => {
      const n = await this.node(h.name, signal).catch(() => undefined);
      return n !== undefined && n.ready && n.version === this.target;
    }, this.i.readyTimeoutMs);
  }

  /**
   * kubeadm's checks that Outpost's hosts may fail for good reason (kubeadm-run.ts, nodeInputs), and for the
   * apply (`more`): its CreateJob health check, a Job of the pause image run with `-v` that must finish in
   * 15 s (a Release's pause need not answer `-v`, the world's does not: it only holds namespaces; and a busy
   * site host may take longer than 15 s to start a pod; kubeadm still runs it and prints its failure as a
   * warning), and, in a cluster without CoreDNS, the CoreDNS checks, which fail on the Deployment that is
   * not there ("start version '' not supported"). ControlPlaneNodesReady and the static pod checks stay.
   */
  private preflightFlags(h: PlannedHost, more: readonly string[] = []): string[] {
    return [`--ignore-preflight-errors=${[...this.i.run.nodeInputs(h).ignorePreflightErrors, ...more].join(',')}`];
  }

  /**
   * A control-plane host: `kubeadm upgrade apply` (the first) or `kubeadm upgrade node` (the others) with
   * the new kubeadm, then the new kubelet. The apply runs unless the cluster's configuration names the
   * target already (an earlier attempt got that far); the kubelet is restarted unless it runs the target.
   */
  private async upgradeHost(h: PlannedHost, how: 'apply' | 'node', signal: AbortSignal): Promise<void> {
    const node = await this.node(h.name, signal);
    const action = hostUpgradeAction(node, this.target);
    const s = await this.i.run.session(h, signal);
    const kubeadm = `${this.i.run.paths.binDir}/kubeadm`;
    if (how === 'apply') {
      const configMap = JSON.parse(await this.kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'json'], signal)) as ConfigMap;
      const config = clusterConfigurationForUpgrade(configMap.data?.ClusterConfiguration ?? '', this.i.run.images);
      if (applyNeeded(config.currentVersion, this.target)) {
        await this.installBinaries(h, s, 'kubeadm', signal);
        if (config.yaml) await this.storeClusterConfiguration(s, { ...configMap, data: { ...configMap.data, ClusterConfiguration: config.yaml } }, signal);
        // Images are on every host already (the images steps): kubeadm pulls nothing (IfNotPresent finds
        // them). etcd is upgraded only when the Release brings another etcd, so a patch upgrade that keeps
        // etcd's image leaves the cluster's data store alone.
        await s.run(shJoin([kubeadm, 'upgrade', 'apply', this.target, '--yes', `--etcd-upgrade=${config.etcdChanged}`, ...this.preflightFlags(h, ['CreateJob', ...(config.dnsDisabled ? ['CoreDNSUnsupportedPlugins', 'CoreDNSMigration'] : [])])]), { signal, timeoutMs: 20 * 60_000 });
      }
    } else if (action === 'upgrade') {
      await this.installBinaries(h, s, 'kubeadm', signal);
      await s.run(shJoin([kubeadm, 'upgrade', 'node', ...this.preflightFlags(h)]), { signal, timeoutMs: 20 * 60_000 });
    }
    if (action === 'upgrade') await this.restartKubelet(h, s, signal);
  }

  /**
   * kube-system/kubeadm-config with the new Release's images in its ClusterConfiguration: a replace of the
   * object as read, so a change made meanwhile (its resourceVersion moved) fails the step, which reads again.
   */
  private async storeClusterConfiguration(s: SshSession, configMap: ConfigMap, signal: AbortSignal): Promise<void> {
    const file = `${OUTPOST_DIR}/kubeadm-config.json`;
    await s.writeFile(file, { bytes: JSON.stringify(configMap) }, 0o600, { signal });
    await s.run(shJoin([`${this.i.run.paths.binDir}/kubectl`, '--kubeconfig', ADMIN_CONF, 'replace', '-f', file]), { signal });
  }

  /**
   * A worker: drained (DaemonSets stay, emptyDir data goes, bounded), `kubeadm upgrade node`, the new
   * kubelet, uncordoned once its node is Ready at the target. A node the operator had cordoned stays so.
   */
  private async upgradeWorker(h: PlannedHost, signal: AbortSignal): Promise<void> {
    const node = await this.node(h.name, signal);
    const action = hostUpgradeAction(node, this.target);
    if (action === 'done' || action === 'absent') return;
    if (action === 'upgrade') {
      // Marked before the cordon, so a step cut off after it still knows the cordon was its own.
      if (!node!.unschedulable && !node!.drainedFor) await this.kubectl(['annotate', 'node', h.name, '--overwrite', `${DRAINED_ANNOTATION}=${this.target}`], signal);
      const drainMs = this.i.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      await this.kubectl(['drain', h.name, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${Math.round(drainMs / 1000)}s`], signal, drainMs + 60_000);
      const s = await this.i.run.session(h, signal);
      await this.installBinaries(h, s, 'kubeadm', signal);
      await s.run(shJoin([`${this.i.run.paths.binDir}/kubeadm`, 'upgrade', 'node', ...this.preflightFlags(h)]), { signal, timeoutMs: 10 * 60_000 });
      await this.restartKubelet(h, s, signal);
    }
    const now = await this.node(h.name, signal);
    if (now?.drainedFor) {
      await this.kubectl(['uncordon', h.name], signal);
      await this.kubectl(['annotate', 'node', h.name, `${DRAINED_ANNOTATION}-`], signal);
      await this.node(h.name, signal);
    }
  }
}
