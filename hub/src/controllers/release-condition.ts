// Keeps each Cluster's ReleaseAvailable condition true to the Release catalogue: a Cluster may name a
// version with no Release yet (the catalogue fills in later); the condition says so, and turns True when
// the Release arrives.
//
// A work queue of Cluster keys, written a chunk per turn of the event loop: a Release that 100,000
// Clusters name is 100,000 status writes, and done inside the write that made the Release (the store
// calls its subscribers before the API answers) they held the hub's primary for over 10 s, its API
// unanswered (a 100,000-agent bench run died of it). The first chunk is written at once, so a small hub
// sees the condition as soon as the write that changed it returns.
import { keyOf, normaliseVersion, releaseVersion, sameConditions, setCondition, type Cluster, type Condition, type ObjectKey, type Release } from '@outpost/proto';
import type { Store, StoreChange } from '../store/store.js';

const TYPE = 'ReleaseAvailable';
/** Clusters reconciled per turn, in one transaction (at ~0.15 ms a write, ~30 ms of the loop). */
const RELEASE_CONDITION_CHUNK = 200;

export class ReleaseConditionController {
  private readonly unsubscribe: () => void;
  /** Versions in the catalogue; rebuilt when a Release changes, not on every Cluster write. */
  private versions: Set<string> | undefined;
  /** Clusters to reconcile, by "namespace/name", in the order they came due. */
  private readonly due = new Map<string, ObjectKey>();
  private next: NodeJS.Immediate | undefined;
  /** In a chunk: the chunk's own writes come back through onChanges, and must not start another. */
  private draining = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly chunk = RELEASE_CONDITION_CHUNK,
  ) {
    this.unsubscribe = store.subscribe((changes) => this.onChanges(changes));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.next) clearImmediate(this.next);
    this.next = undefined;
  }

  /** Brings every Cluster up to date; run once at start (the first chunk now, the rest turn by turn). */
  resyncAll(): void {
    for (const k of this.store.clusterVersions()) this.enqueue(k);
    if (!this.next && !this.draining) this.drain();
  }

  /** Clusters still to be reconciled (read by its tests and the release-flip bench). */
  get pending(): number {
    return this.due.size;
  }

  private onChanges(changes: readonly StoreChange[]): void {
    for (const ch of changes) {
      if (ch.object.kind === 'Release') {
        this.versions = undefined;
        const version = releaseVersion(ch.object as Release);
        for (const k of this.store.clusterVersions()) if (normaliseVersion(k.version) === version) this.enqueue(k);
      }
      // From the change itself, no read: this controller's own writes, already right, queue nothing.
      if (ch.object.kind === 'Cluster' && ch.type !== 'DELETED' && this.wanted(ch.object as Cluster)) this.enqueue(keyOf(ch.object));
    }
    if (this.due.size > 0 && !this.next && !this.draining) this.drain();
  }

  private enqueue(k: ObjectKey): void {
    this.due.set(`${k.namespace}/${k.name}`, { kind: 'Cluster', namespace: k.namespace, name: k.name });
  }

  /** Reconciles a chunk in one transaction; the rest on a later turn, after what else is waiting. */
  private drain(): void {
    this.next = undefined;
    if (this.stopped) return;
    const keys: ObjectKey[] = [];
    for (const [id, k] of this.due) {
      if (keys.length >= this.chunk) break;
      keys.push(k);
      this.due.delete(id);
    }
    // Read again when due: the queued key may have changed or gone since.
    this.draining = true;
    try {
      this.store.transaction(() => {
        for (const k of keys) this.reconcile(this.store.get<Cluster>('Cluster', k.namespace, k.name));
      });
    } finally {
      this.draining = false;
    }
    if (this.due.size > 0 && !this.stopped) this.next = setImmediate(() => this.drain());
  }

  private available(version: string): boolean {
    this.versions ??= new Set(this.store.list<Release>('Release').map(releaseVersion));
    return this.versions.has(normaliseVersion(version));
  }

  /** The conditions `c` should have, or undefined when it has them (or is being deleted). */
  private wanted(c: Cluster): Condition[] | undefined {
    if (c.metadata.deletionTimestamp) return undefined;
    const version = c.spec?.version ?? '';
    const ok = this.available(version);
    const conditions = setCondition(c.status?.conditions, {
      type: TYPE,
      status: ok ? 'True' : 'False',
      reason: ok ? 'ReleaseFound' : 'NoRelease',
      message: ok ? `Release ${normaliseVersion(version)} is in the catalogue` : `no Release ${normaliseVersion(version)} in the catalogue yet; the cluster waits for it (outpost get releases)`,
      observedGeneration: c.metadata.generation ?? 0,
    });
    return sameConditions(conditions, c.status?.conditions) ? undefined : conditions;
  }

  private reconcile(c: Cluster | undefined): void {
    const conditions = c && this.wanted(c);
    if (!c || !conditions) return;
    this.store.replaceStatus(keyOf(c), { ...c.status, conditions }, { actor: 'controller:release-condition' });
  }
}
