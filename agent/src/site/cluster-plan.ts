// Which Host does what in a kubeadm Cluster: the control-plane hosts in the order the spec lists them
// (the first runs `kubeadm init`), then each worker pool's. Hosts come from the agent's view; one the
// view lacks is named, with the likely reason. Pure.
import type { Cluster, Host } from '@outpost/proto';
import type { ViewReader } from '../reconcile/reconciler.js';
import { sshTargetOf } from './host-target.js';
import type { SshTarget } from './ssh/ssh-session.js';

export type NodeRole = 'control-plane' | 'worker';

export interface PlannedHost {
  name: string;
  role: NodeRole;
  /** The worker pool, for workers. */
  pool?: string;
  /** The Host's own address: the node's InternalIP. */
  address: string;
  target: SshTarget;
}

export interface ClusterPlan {
  /** Where `kubeadm init` runs: the first control-plane host. */
  init: PlannedHost;
  controlPlane: PlannedHost[];
  workers: PlannedHost[];
  all: PlannedHost[];
}

/** A hosted control plane's static workers: the hosts of its worker pools, nothing to init. */
export interface WorkersPlan {
  workers: PlannedHost[];
  all: PlannedHost[];
}

export class ClusterPlanError extends Error {
  override readonly name = 'ClusterPlanError';
}

function planner(view: ViewReader) {
  return (name: string, role: NodeRole, pool?: string): PlannedHost => {
    const h = view.get({ kind: 'Host', namespace: '', name }) as Host | undefined;
    if (!h) throw new ClusterPlanError(`host "${name}" is not in this site agent's view: create it with spec.site set to this agent's site (outpost get hosts ${name})`);
    const target = sshTargetOf(h);
    return { name, role, ...(pool ? { pool } : {}), address: target.address, target };
  };
}

function workersOf(c: Cluster, planned: ReturnType<typeof planner>): PlannedHost[] {
  return (c.spec?.workers ?? []).flatMap((pool) => (pool.hosts ?? []).map((n) => planned(n, 'worker', pool.name ?? '')));
}

/** The worker pools' hosts of a hosted Cluster, as this site agent joins them. */
export function workersPlan(c: Cluster, view: ViewReader): WorkersPlan {
  const workers = workersOf(c, planner(view));
  return { workers, all: workers };
}

export function clusterPlan(c: Cluster, view: ViewReader): ClusterPlan {
  const planned = planner(view);
  const cpNames = c.spec?.controlPlane?.hosts ?? [];
  if (!cpNames.length) throw new ClusterPlanError('spec.controlPlane.hosts names no host: list the hosts that carry the control plane (as many as spec.controlPlane.replicas)');
  const controlPlane = cpNames.map((n) => planned(n, 'control-plane'));
  const workers = workersOf(c, planned);
  return { init: controlPlane[0]!, controlPlane, workers, all: [...controlPlane, ...workers] };
}
