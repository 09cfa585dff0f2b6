// Runs the agent's reconcilers from one keyed work queue (agent/src/engine): objects de-duplicated, several
// in parallel, never two runs of one object, failures retried with backoff, a periodic resync, and a run in
// flight cancelled when its object changes or goes. Changes to a Cluster's inputs requeue that Cluster.
// Deleted objects are finalized by every reconciler that owns them before this agent releases its finalizer.
import { keyFromString, type Cluster, type Component, type ComponentHealth, type ResourceObject } from '@outpost/proto';
import { WorkQueue, type BackoffOptions, type Clock, type FlowJournal, type ReconcileResult } from '../engine/index.js';
import { isBeingDeleted, keyOf, keyString, type AppliedChange, type LocalState, type ObjectKey } from '../state/local-state.js';
import { clustersUsing, CLUSTER_INPUTS } from './dependencies.js';
import { NO_CLUSTER_SECRETS, type ArtifactFetcher, type ClusterSecrets, type HostRecords, type ReconcileContext, type ReconcileLog, type Reconciler, type StatusPatch } from './reconciler.js';
import { StatusBook } from './status-book.js';

/** What the controller needs of the agent's local state (see LocalState for each). */
export type ControllerState = Pick<LocalState, 'get' | 'list' | 'tombstones' | 'beingDeleted' | 'forget' | 'markReconciled' | 'enqueueStatus' | 'lastReported'>;

export interface ControllerOptions {
  state: ControllerState;
  reconcilers: readonly Reconciler[];
  journal: FlowJournal;
  /** The CAs the hub delivered for the Clusters this agent serves. Default: none. */
  secrets?: ClusterSecrets;
  /** The artifact cache reconcilers fetch from (site agents). Default: none. */
  artifacts?: ArtifactFetcher;
  /** The hosts reconcilers set up for each Cluster (reconciler.ts, HostRecords). Default: none. */
  hosts?: HostRecords;
  /** This agent's finalizer (agentFinalizer(view)): released once every owner has finalized an object. */
  finalizer: string;
  /** Called after statuses were queued, so the hub link sends them. */
  onStatus(): void;
  log: ReconcileLog;
  /** Objects reconciled at once. Default 8: most of a reconcile is waiting on an apiserver or an SSH host. */
  concurrency?: number;
  /** Default 10 minutes: drift is repaired at least this often. */
  resyncMs?: number;
  /** Retry backoff per object. Default 1 s up to 5 minutes. */
  backoff?: BackoffOptions;
  clock?: Clock;
}

export class ReconcileController implements Component {
  readonly name = 'reconcilers';
  private readonly queue: WorkQueue;
  private readonly statuses: StatusBook;
  private readonly kinds: ReadonlySet<string>;
  private flushScheduled = false;

  constructor(private readonly o: ControllerOptions) {
    const names = new Set<string>();
    for (const r of o.reconcilers) {
      if (names.has(r.name)) throw new Error(`two reconcilers are named "${r.name}"; each needs its own name`);
      names.add(r.name);
    }
    this.kinds = new Set(o.reconcilers.map((r) => r.kind));
    this.statuses = new StatusBook((key) => o.state.lastReported(key));
    this.queue = new WorkQueue({
      name: 'reconcile',
      handler: (key, signal) => this.run(key, signal),
      concurrency: o.concurrency ?? 8,
      resyncMs: o.resyncMs ?? 600_000,
      backoff: o.backoff ?? { baseMs: 1_000, capMs: 300_000 },
      listKeys: () => this.allKeys(),
      onFailure: (key, err, { failures, retryInMs }) => o.log.warn({ object: key, failures, retryInMs, err: (err as Error)?.message ?? String(err) }, 'reconcile failed; will retry'),
      onResyncError: (err) => o.log.warn({ err: (err as Error)?.message ?? String(err) }, 'resync could not list the view'),
      ...(o.clock ? { clock: o.clock } : {}),
    });
  }

  /**
   * Starts the queue: every object of a reconciled kind, and every unfinished deletion, runs once now.
   * Tombstones of kinds no reconciler serves (a Host, an SSH key) have nothing to tear down: forgotten.
   */
  async start(): Promise<void> {
    for (const t of this.o.state.tombstones()) if (!this.kinds.has(t.kind)) this.o.state.forget(keyOf(t));
    for (const r of this.o.reconcilers) await r.start?.((key) => this.requeue(key));
    return this.queue.start();
  }

  /** Aborts every run in flight and waits for them to return; then stops the reconcilers' own watches. */
  async stop(): Promise<void> {
    await this.queue.stop();
    const failed = (await Promise.allSettled(this.o.reconcilers.map((r) => r.stop?.()))).filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason as unknown), `${failed.length} reconcilers failed to stop`);
  }

  health(): ComponentHealth {
    return this.queue.health();
  }

  /** Resolves when nothing is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** What a persisted batch changed: those objects run again (a run in flight is cut short), and so do the Clusters that use them. */
  changed(changes: readonly AppliedChange[]): void {
    for (const ch of changes) {
      if (this.kinds.has(ch.key.kind)) this.enqueue(ch.key, true);
      else if (ch.deleted) this.o.state.forget(ch.key);
      if (CLUSTER_INPUTS.has(ch.key.kind)) {
        const clusters = this.o.state.list('Cluster') as Cluster[];
        const before = ch.deleted ? ch.object : ch.previous;
        for (const k of clustersUsing(before, ch.deleted ? undefined : ch.object, clusters)) this.enqueue(k, false);
      }
    }
  }

  /**
   * Runs `key` again without cutting a run in flight short (the hub just delivered its CAs, say: a
   * reconciler that found none sees them on this run).
   */
  requeue(key: ObjectKey): void {
    if (this.kinds.has(key.kind)) this.enqueue(key, false);
  }

  private enqueue(key: ObjectKey, cancelInFlight: boolean): void {
    this.queue.add(keyString(key), { cancelInFlight });
  }

  private allKeys(): string[] {
    // Live objects include those being deleted, so an unfinished deletion resumes like any other work.
    const objects = [...[...this.kinds].flatMap((kind) => this.o.state.list(kind)), ...this.o.state.tombstones().filter((t) => this.kinds.has(t.kind))];
    return objects.map((obj) => keyString(keyOf(obj)));
  }

  private async run(k: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const key = keyFromString(k);
    const live = this.o.state.get(key);
    const same = (o: ResourceObject): boolean => keyString(keyOf(o)) === k;
    const obj = live ?? this.o.state.tombstones().find(same);
    if (!obj) return;
    const owners = this.o.reconcilers.filter((r) => r.kind === key.kind && r.owns(obj));
    const ctx = this.context(key, signal);
    if (!live) return this.finalize(key, obj, owners, ctx);
    if (isBeingDeleted(obj)) {
      // Tear down unless that is done already (its release waits in the outbox; the hub deletes it soon).
      if (this.o.state.beingDeleted().some(same)) await this.finalize(key, obj, owners, ctx);
      return;
    }
    let requeueAfterMs: number | undefined;
    for (const r of owners) {
      signal.throwIfAborted();
      const outcome = await r.reconcile(obj, ctx);
      if (outcome?.status) ctx.report(outcome.status);
      if (outcome?.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, outcome.requeueAfterMs);
    }
    this.o.state.markReconciled(key, obj.metadata.generation ?? 0);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  }

  /**
   * Every owner tears down, then this agent releases its finalizer (through the durable status outbox, so the
   * release survives a restart) and forgets the object. A failure is retried: the hub keeps the object
   * Terminating meanwhile, and the operator sees why in the agent's log and the object's status.
   */
  private async finalize(key: ObjectKey, obj: ResourceObject, owners: readonly Reconciler[], ctx: ReconcileContext): Promise<void> {
    for (const r of owners) {
      ctx.signal.throwIfAborted();
      await r.finalize?.(obj, ctx);
    }
    if (obj.metadata.finalizers?.includes(this.o.finalizer)) {
      this.o.state.enqueueStatus({ ref: { kind: key.kind, namespace: key.namespace, name: key.name, uid: obj.metadata.uid ?? '' }, finalized: true });
      this.o.onStatus();
      this.o.log.info({ object: key, finalizer: this.o.finalizer }, 'finalized; releasing the finalizer');
    }
    this.statuses.forget(key);
    // A tombstone is dropped; an object still in the view is marked finalized until the hub deletes it.
    this.o.state.forget(key);
  }

  private context(key: ObjectKey, signal: AbortSignal): ReconcileContext {
    const state = this.o.state;
    return {
      signal,
      journal: this.o.journal,
      log: this.o.log,
      view: { get: (k) => state.get(k), list: (kind) => state.list(kind) },
      secrets: this.o.secrets ?? NO_CLUSTER_SECRETS,
      ...(this.o.artifacts ? { artifacts: this.o.artifacts } : {}),
      ...(this.o.hosts ? { hosts: this.o.hosts } : {}),
      report: (patch: StatusPatch) => {
        this.statuses.merge(key, patch);
        this.scheduleFlush();
      },
    };
  }

  /**
   * Queues what changed once the current burst of reports is over (a flow reports on every transition), so
   * a quick flow costs the hub one status, not one per step.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const drained = this.statuses.drain();
      for (const { key, report } of drained) {
        const uid = this.o.state.get(key)?.metadata.uid ?? '';
        this.o.state.enqueueStatus(report({ kind: key.kind, namespace: key.namespace, name: key.name, uid }));
      }
      if (drained.length) this.o.onStatus();
    });
  }
}
