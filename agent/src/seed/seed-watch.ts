// The seed agent watches what it made: a list+watch (@kubernetes/client-node's ListWatch) of each kind it
// applies, and of the pods and ReplicaSets under them, across the seed's namespaces, narrowed to its own
// labels. An event that is drift (drift.ts) notes what happened for the Cluster it belongs to and requeues
// that Cluster at once, debounced so a burst (a namespace's worth of deletions) costs one run. The periodic
// heal stays as a safety net only.
//
// The watch survives: a 410 Gone relists (ListWatch does, and reports what changed meanwhile as updates and
// deletions); a dropped stream is watched again from its resourceVersion (ListWatch); any other failure
// stops a ListWatch, so it is started again here with backoff. It has the reconcilers' lifecycle: started
// with them, stopped after them, no socket left open.
import { KubeConfig, KubernetesObjectApi, ListWatch, Watch, type KubernetesListObject } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions } from '../engine/index.js';
import type { ReconcileLog } from '../reconcile/reconciler.js';
import { keyString, type ObjectKey } from '../state/local-state.js';
import { driftOf, foreignWrites, isCurrentRevision, WATCHED_KINDS, type Drift, type WatchedKind, type WatchedObject, type WatchEventType } from './drift.js';
import { CLUSTER_LABEL, PROJECT_LABEL } from './namespace-name.js';
import { FIELD_MANAGER } from './seed-api.js';

/** What the hosted control plane's reconciler needs of a watch of its objects. */
export interface DriftWatch {
  /** Starts watching; `requeue` runs a Cluster again at once. */
  start(requeue: (cluster: ObjectKey) => void): Promise<void>;
  /** Idempotent; ends every watch. */
  stop(): Promise<void>;
  /** What was changed by another hand in `cluster`'s objects since a run last put it back. */
  notes(cluster: ObjectKey): Drift[];
  /** A run that began with these notes succeeded: they are put back. */
  settle(cluster: ObjectKey, notes: readonly Drift[]): void;
}

export interface SeedWatchOptions {
  kubeConfig: KubeConfig;
  log: ReconcileLog;
  /** How long after a drift event its Cluster is requeued, gathering the burst it belongs to. Default 250 ms. */
  debounceMs?: number;
  /** Between restarts of a failed watch. Default 1 s up to 30 s. */
  backoff?: BackoffOptions;
}

const RESOURCES: Record<WatchedKind, { apiVersion: string; path: string }> = {
  Deployment: { apiVersion: 'apps/v1', path: '/apis/apps/v1/deployments' },
  StatefulSet: { apiVersion: 'apps/v1', path: '/apis/apps/v1/statefulsets' },
  ReplicaSet: { apiVersion: 'apps/v1', path: '/apis/apps/v1/replicasets' },
  Service: { apiVersion: 'v1', path: '/api/v1/services' },
  Secret: { apiVersion: 'v1', path: '/api/v1/secrets' },
  PodDisruptionBudget: { apiVersion: 'policy/v1', path: '/apis/policy/v1/poddisruptionbudgets' },
  Pod: { apiVersion: 'v1', path: '/api/v1/pods' },
};

/** Every object the agent makes carries both; nothing else on a seed should. */
export const WATCH_SELECTOR = `${PROJECT_LABEL},${CLUSTER_LABEL}`;

/** A Watch that starts nothing once stopped: a ListWatch stopped during its reconnect delay would otherwise watch again. */
class StoppableWatch extends Watch {
  stopped = false;
  override async watch(...args: Parameters<Watch['watch']>): Promise<AbortController> {
    if (this.stopped) return new AbortController();
    return super.watch(...args);
  }
}

interface KindWatch {
  kind: WatchedKind;
  informer: ListWatch<WatchedObject>;
  backoff: Backoff;
  failed: boolean;
  restart: NodeJS.Timeout | undefined;
}

/** The Cluster an object of the agent's belongs to, by its labels. */
function clusterOf(obj: WatchedObject): ObjectKey | undefined {
  const labels = obj.metadata?.labels ?? {};
  const project = labels[PROJECT_LABEL];
  const name = labels[CLUSTER_LABEL];
  return project && name ? { kind: 'Cluster', namespace: project, name } : undefined;
}

const noteKey = (d: Drift): string => `${d.component}\0${d.note}\0${d.podUid ?? ''}`;

export class SeedWatch implements DriftWatch {
  private readonly watch: StoppableWatch;
  private readonly objects: KubernetesObjectApi;
  private readonly debounceMs: number;
  private readonly life = new AbortController();
  private watches: KindWatch[] = [];
  private requeue: ((cluster: ObjectKey) => void) | undefined;
  /** Each object's foreign writes as last seen, by uid. */
  private readonly writes = new Map<string, ReadonlyMap<string, number>>();
  /** Pods whose going was noted already (on their deletionTimestamp; their deletion comes later). */
  private readonly podsGone = new Set<string>();
  private readonly drift = new Map<string, Map<string, Drift>>();
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly o: SeedWatchOptions) {
    this.watch = new StoppableWatch(o.kubeConfig);
    this.objects = KubernetesObjectApi.makeApiClient(o.kubeConfig);
    this.debounceMs = o.debounceMs ?? 250;
  }

  async start(requeue: (cluster: ObjectKey) => void): Promise<void> {
    if (this.requeue || this.life.signal.aborted) return;
    this.requeue = requeue;
    this.watches = WATCHED_KINDS.map((kind) => this.kindWatch(kind));
    // Not awaited: a seed that does not answer yet must not hold the agent's start; each retries on its own.
    for (const w of this.watches) void this.run(w);
  }

  async stop(): Promise<void> {
    if (this.life.signal.aborted) return;
    this.life.abort();
    this.watch.stopped = true;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    for (const w of this.watches) clearTimeout(w.restart);
    await Promise.all(this.watches.map((w) => w.informer.stop()));
  }

  notes(cluster: ObjectKey): Drift[] {
    return [...(this.drift.get(keyString(cluster))?.values() ?? [])];
  }

  settle(cluster: ObjectKey, notes: readonly Drift[]): void {
    const held = this.drift.get(keyString(cluster));
    if (!held) return;
    for (const d of notes) held.delete(noteKey(d));
    if (!held.size) this.drift.delete(keyString(cluster));
  }

  private kindWatch(kind: WatchedKind): KindWatch {
    const { apiVersion, path } = RESOURCES[kind];
    const list = () => this.objects.list<WatchedObject>(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, WATCH_SELECTOR) as Promise<KubernetesListObject<WatchedObject>>;
    const informer = new ListWatch<WatchedObject>(path, this.watch, list, false, WATCH_SELECTOR, undefined, { delayFn: (ms) => this.delay(ms) });
    const w: KindWatch = { kind, informer, backoff: new Backoff({ baseMs: 1_000, capMs: 30_000, ...this.o.backoff }), failed: false, restart: undefined };
    informer.on('add', (obj) => this.event(kind, 'add', obj));
    informer.on('update', (obj) => this.event(kind, 'update', obj));
    informer.on('delete', (obj) => this.event(kind, 'delete', obj));
    // A ListWatch that reports an error has stopped: it is started again after a backoff.
    informer.on('error', (err: unknown) => {
      if (this.life.signal.aborted) return;
      if (!w.failed) this.o.log.warn({ kind, err: err instanceof Error ? err.message : String(err) }, "the watch of the seed's objects failed; retrying with backoff (the periodic heal still runs)");
      w.failed = true;
      clearTimeout(w.restart);
      w.restart = setTimeout(() => void this.run(w), w.backoff.next());
    });
    return w;
  }

  private async run(w: KindWatch): Promise<void> {
    if (this.life.signal.aborted) return;
    const wasFailed = w.failed;
    w.failed = false;
    await w.informer.start();
    // start() returns once the watch is open, or after reporting why it could not open.
    if (w.failed) return;
    w.backoff.reset();
    if (wasFailed) this.o.log.info({ kind: w.kind }, "the watch of the seed's objects is back");
  }

  /** ListWatch's reconnect delay, cut short by stop (StoppableWatch then starts nothing). */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.life.signal.aborted) return resolve();
      const t = setTimeout(resolve, ms);
      this.life.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }

  private lookup = (kind: 'StatefulSet' | 'ReplicaSet' | 'Deployment', namespace: string, name: string): WatchedObject | undefined =>
    this.watches.find((w) => w.kind === kind)?.informer.get(name, namespace);

  private event(kind: WatchedKind, type: WatchEventType, obj: WatchedObject): void {
    if (this.life.signal.aborted) return;
    const uid = obj.metadata?.uid ?? '';
    const drift = driftOf(type, kind, obj, {
      seenWrites: this.writes.get(uid),
      ours: FIELD_MANAGER,
      ...(kind === 'Pod' ? { currentRevision: isCurrentRevision(obj, this.lookup) } : {}),
    });
    if (type === 'delete') this.writes.delete(uid);
    else if (kind !== 'Pod') this.writes.set(uid, foreignWrites(obj, FIELD_MANAGER));
    let noted = Boolean(drift);
    if (kind === 'Pod') {
      // Noted once: at its deletionTimestamp, or at its deletion when that came first.
      noted &&= !this.podsGone.has(uid);
      if (type === 'delete') this.podsGone.delete(uid);
      else if (drift) this.podsGone.add(uid);
    }
    const cluster = clusterOf(obj);
    if (!noted || !drift || !cluster) return;
    const k = keyString(cluster);
    const held = this.drift.get(k) ?? new Map<string, Drift>();
    held.set(noteKey(drift), drift);
    this.drift.set(k, held);
    this.o.log.info({ cluster: k, component: drift.component, drift: drift.note }, 'drift on the seed: the cluster runs again to put it back');
    if (this.pending.has(k)) return;
    this.pending.set(k, setTimeout(() => {
      this.pending.delete(k);
      this.requeue?.(cluster);
    }, this.debounceMs));
  }
}
