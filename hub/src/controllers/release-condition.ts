// Keeps each Cluster's ReleaseAvailable condition true to the Release catalogue: a Cluster may name a
// version with no Release yet (the catalogue fills in later); the condition says so, and turns True when
// the Release arrives.
import { keyOf, normaliseVersion, releaseVersion, sameConditions, setCondition, type Cluster, type Release } from '@outpost/proto';
import type { Store, StoreChange } from '../store/store.js';

const TYPE = 'ReleaseAvailable';

export class ReleaseConditionController {
  private readonly unsubscribe: () => void;
  /** Versions in the catalogue; rebuilt when a Release changes, not on every Cluster write. */
  private versions: Set<string> | undefined;

  constructor(private readonly store: Store) {
    this.unsubscribe = store.subscribe((changes) => this.onChanges(changes));
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Brings every Cluster up to date; run once at start. */
  resyncAll(): void {
    for (const c of this.store.list<Cluster>('Cluster')) this.reconcile(c);
  }

  private onChanges(changes: readonly StoreChange[]): void {
    for (const ch of changes) {
      if (ch.object.kind === 'Cluster' && ch.type !== 'DELETED') this.reconcile(this.store.get<Cluster>('Cluster', ch.object.metadata.namespace ?? '', ch.object.metadata.name ?? ''));
      if (ch.object.kind === 'Release') {
        this.versions = undefined;
        const version = releaseVersion(ch.object as Release);
        for (const c of this.store.list<Cluster>('Cluster')) if (normaliseVersion(c.spec?.version ?? '') === version) this.reconcile(c);
      }
    }
  }

  private available(version: string): boolean {
    this.versions ??= new Set(this.store.list<Release>('Release').map(releaseVersion));
    return this.versions.has(normaliseVersion(version));
  }

  private reconcile(c: Cluster | undefined): void {
    if (!c || c.metadata.deletionTimestamp) return;
    const version = c.spec?.version ?? '';
    const ok = this.available(version);
    const conditions = setCondition(c.status?.conditions, {
      type: TYPE,
      status: ok ? 'True' : 'False',
      reason: ok ? 'ReleaseFound' : 'NoRelease',
      message: ok ? `Release ${normaliseVersion(version)} is in the catalogue` : `no Release ${normaliseVersion(version)} in the catalogue yet; the cluster waits for it (outpost get releases)`,
      observedGeneration: c.metadata.generation ?? 0,
    });
    if (sameConditions(conditions, c.status?.conditions)) return;
    this.store.replaceStatus(keyOf(c), { ...c.status, conditions }, { actor: 'controller:release-condition' });
  }
}
