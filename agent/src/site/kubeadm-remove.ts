// Taking workers out of a kubeadm cluster (removal-plan.ts says which), each host on its own and no other
// touched: its node drained (DaemonSets stay, emptyDir data goes, bounded) and deleted, with kubectl on the
// first control-plane host as the rest of the flow runs it; then `kubeadm reset` and Outpost's cleanup on
// the host (kubeadm-reset.ts, as for a Cluster deleted), and the agent's record of it dropped. Each step
// looks first and does only what is left, so a retry, or a run resumed from the journal after a kill -9,
// goes on from where it stopped. A host the agent cannot reach any more (its Host deleted, no record of it)
// has its node drained and deleted all the same, and is named as not reset.
import type { NodeState } from '@outpost/proto';
import type { FlowStep } from '../engine/index.js';
import type { ClusterPlan } from './cluster-plan.js';
import type { HostSessions } from './host-sessions.js';
import { resetScript } from './kubeadm-reset.js';
import { ADMIN_CONF, pemCaHash, SSH_RETRY, type KubeadmRun } from './kubeadm-run.js';
import type { RemovedHost } from './removal-plan.js';
import { shJoin } from './ssh/shell-quote.js';

export interface KubeadmRemovalInputs {
  plan: ClusterPlan;
  /** The run of the cluster's flow: its sessions and paths. */
  run: KubeadmRun;
  sessions: HostSessions;
  hosts: readonly RemovedHost[];
  podCidr: string;
  /** How long a drain may take before its step fails (and is tried again). Default 5 minutes. */
  drainTimeoutMs?: number;
  /** Called once a host is torn down: the agent forgets it. */
  onRemoved: (host: RemovedHost) => void;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 5 * 60_000;

/** A drain that did not finish: what kubectl said blocked it (a PodDisruptionBudget, a pod with no controller, a pod that will not stop). */
export class DrainBlocked extends Error {
  override readonly name = 'DrainBlocked';
  constructor(
    readonly node: string,
    readonly kubectlOutput: string,
    timeoutS: number,
  ) {
    super(`the drain of node ${node} did not finish (it may take ${timeoutS} s); kubectl said: ${blockers(kubectlOutput)}. Let those pods go (relax the PodDisruptionBudget, delete or give a controller to the pod), or put the host back in spec.workers; the drain is tried again`);
  }
}

/**
 * What in kubectl drain's output says why: each pod's reason, once (it repeats them every 5 s, and its last
 * lines say only that time ran out), the last two, then its verdict.
 */
export function blockers(output: string): string {
  const lines = [...new Set(output.split('\n').map((l) => l.trim()).filter(Boolean))];
  const reasons = [...new Set(lines.filter((l) => /cannot|violate|disruption budget|no controller|local storage/i.test(l)).map((l) => l.replace(/ \(will retry after \d+s\)/, '')))];
  const verdict = lines.filter((l) => /^error:/i.test(l)).at(-1);
  const picked = [...reasons.filter((r) => r !== verdict).slice(-2), ...(verdict ? [verdict] : [])];
  return (picked.length ? picked : lines.slice(-3)).join(' | ') || '(nothing)';
}

export class KubeadmRemoval {
  constructor(private readonly i: KubeadmRemovalInputs) {}

  /** drain → delete-node → reset, per host; hosts in parallel, each on its own. */
  steps(): FlowStep[] {
    const out: FlowStep[] = [];
    for (const h of this.i.hosts) {
      let previous: string | undefined;
      const add = (name: string, timeoutMs: number, run: (signal: AbortSignal) => Promise<void>): void => {
        out.push({ name: `${name}:${h.name}`, host: h.name, dependsOn: previous ? [previous] : [], timeoutMs, retry: SSH_RETRY, run });
        previous = `${name}:${h.name}`;
      };
      const drainMs = this.i.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      if (h.joined) {
        add('drain', drainMs + 2 * 60_000, (s) => this.drain(h, drainMs, s));
        add('delete-node', 2 * 60_000, (s) => this.deleteNode(h, s));
      }
      // No target: nothing to reach (the reconciler says so); forgotten once its node is gone.
      if (h.target) add('reset', 5 * 60_000, (s) => this.reset(h, s));
      // Never a node, and nowhere to reach it: nothing to do but forget it.
      if (!previous) add('forget', 10_000, () => Promise.resolve(this.i.onRemoved(h)));
    }
    return out;
  }

  /** What status.nodes says of the hosts being taken out, until each is reset. */
  nodes(): NodeState[] {
    return this.i.hosts.map((h) => ({ host: h.name, role: h.role, state: 'Removing', version: '' }));
  }

  private kubectl(args: string[]): string {
    return shJoin([`${this.i.run.paths.binDir}/kubectl`, '--kubeconfig', ADMIN_CONF, '--request-timeout', '20s', ...args]);
  }

  /** Whether the cluster has the node, through the first control-plane host; a failure to ask throws. */
  private async hasNode(name: string, signal: AbortSignal): Promise<boolean> {
    const s = await this.i.run.session(this.i.plan.init, signal);
    const r = await s.exec(this.kubectl(['get', 'node', name, '-o', 'name', '--ignore-not-found']), { signal, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`cannot ask the cluster for node ${name} through ${this.i.plan.init.name}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    return r.stdout.trim() !== '';
  }

  private async drain(h: RemovedHost, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (!(await this.hasNode(h.name, signal))) return;
    const s = await this.i.run.session(this.i.plan.init, signal);
    const timeoutS = Math.round(timeoutMs / 1000);
    // exec, not run: what kubectl says of each pod it could not evict is on stdout and stderr both.
    const r = await s.exec(this.kubectl(['drain', h.name, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${timeoutS}s`]), { signal, timeoutMs: timeoutMs + 60_000 });
    if (r.code !== 0) throw new DrainBlocked(h.name, `${r.stdout}\n${r.stderr}`, timeoutS);
  }

  private async deleteNode(h: RemovedHost, signal: AbortSignal): Promise<void> {
    const s = await this.i.run.session(this.i.plan.init, signal);
    await s.run(this.kubectl(['delete', 'node', h.name, '--ignore-not-found']), { signal, timeoutMs: 60_000 });
    if (!h.target) this.i.onRemoved(h);
  }

  /**
   * `kubeadm reset` and the cleanup, unless the host holds another cluster's CA by now (it was given to
   * another Cluster, whose agent joined it): that host is not this cluster's to reset any more.
   */
  private async reset(h: RemovedHost, signal: AbortSignal): Promise<void> {
    const s = await this.i.sessions.get(h.target!, signal);
    const ca = (await s.exec('cat /etc/kubernetes/pki/ca.crt 2>/dev/null', { signal })).stdout.trim();
    if (!ca || pemCaHash(ca) === this.i.run.caCertHash) await s.run(resetScript(this.i.podCidr, this.i.run.paths), { signal, timeoutMs: 4 * 60_000 });
    this.i.onRemoved(h);
  }
}
