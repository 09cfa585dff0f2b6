// Which hosts a kubeadm Cluster has let go: those this agent set up for it (its own record, in local state)
// or that its last status listed as nodes, which the Cluster's spec names no more. A worker's node is
// drained and deleted and its host reset (kubeadm-remove.ts); a control-plane host is refused, because
// taking a member out of etcd and the control plane is not built. Pure.
import type { NodeState } from '@outpost/proto';
import type { HostRecord } from '../reconcile/reconciler.js';
import type { NodeRole } from './cluster-plan.js';
import type { SshTarget } from './ssh/ssh-session.js';

/** A host the Cluster no longer names, and what the agent knows of it. */
export interface RemovedHost {
  name: string;
  role: NodeRole;
  /** It may be a node of the cluster (its join began, or status.nodes listed it): drained and deleted first. */
  joined: boolean;
  /** Where to reach it for the reset: its Host's spec if the view still has it, else the agent's record. None: it cannot be reset. */
  target?: SshTarget;
}

export interface RemovalInputs {
  /** The hosts the spec names now, control plane and workers. */
  planned: ReadonlySet<string>;
  /** What this agent recorded of the hosts it set up for the Cluster. */
  recorded: readonly HostRecord[];
  /**
   * status.nodes as the view's copy of the Cluster holds it: nodes joined before the agent kept a record.
   * That copy is as old as the last spec write (agents' reports do not come back in views), so it is only
   * believed of a host whose node the cluster still has.
   */
  reported: readonly NodeState[];
  /** The cluster's node names now, or undefined when its API did not answer. */
  nodes: ReadonlySet<string> | undefined;
  /** The Host's SSH target where the view still has it. */
  targetOf: (host: string) => SshTarget | undefined;
}

export interface RemovalPlan {
  workers: RemovedHost[];
  /** Control-plane hosts that may be members of the cluster: refused, left alone. */
  controlPlane: RemovedHost[];
}

/** A recorded target as it was written (recordedTarget), or undefined when the row is not one. */
export function parseRecordedTarget(json: string): SshTarget | undefined {
  let t: unknown;
  try {
    t = JSON.parse(json);
  } catch {
    return undefined;
  }
  const endpoint = (e: unknown): e is Omit<SshTarget, 'host'> => {
    const o = e as Record<string, unknown> | null;
    return typeof o === 'object' && o !== null && typeof o.address === 'string' && o.address !== '' && typeof o.port === 'number' && typeof o.user === 'string' && typeof o.hostKey === 'string';
  };
  if (!endpoint(t) || typeof (t as SshTarget).host !== 'string') return undefined;
  const bastion = (t as SshTarget).bastion;
  if (bastion !== undefined && !endpoint(bastion)) return undefined;
  return t as SshTarget;
}

export function recordedTarget(t: SshTarget): string {
  return JSON.stringify(t);
}

const roleOf = (role: string): NodeRole => (role === 'control-plane' ? 'control-plane' : 'worker');

/**
 * The hosts to take out, in the order recorded then reported. A control-plane host is refused while it
 * may be a member: its join began and the cluster lists its node (or its API does not answer, so nobody
 * can tell). One that never began its join (a spec that named the wrong host before the cluster came up),
 * or whose node the cluster no longer has (taken out by hand), is no member: it is reset like a worker.
 */
export function removalPlan(i: RemovalInputs): RemovalPlan {
  const out = new Map<string, RemovedHost>();
  for (const r of i.recorded) {
    if (i.planned.has(r.host)) continue;
    const target = i.targetOf(r.host) ?? parseRecordedTarget(r.target);
    out.set(r.host, { name: r.host, role: roleOf(r.role), joined: r.joined, ...(target ? { target } : {}) });
  }
  for (const n of i.reported) {
    if (!n.host || i.planned.has(n.host) || out.has(n.host) || !i.nodes?.has(n.host)) continue;
    const target = i.targetOf(n.host);
    out.set(n.host, { name: n.host, role: roleOf(n.role ?? ''), joined: true, ...(target ? { target } : {}) });
  }
  const member = (h: RemovedHost): boolean => h.joined && (i.nodes === undefined || i.nodes.has(h.name));
  const all = [...out.values()];
  return {
    workers: all.filter((h) => h.role === 'worker' || !member(h)).map((h) => (h.role === 'worker' ? h : { ...h, joined: false })),
    controlPlane: all.filter((h) => h.role === 'control-plane' && member(h)),
  };
}
