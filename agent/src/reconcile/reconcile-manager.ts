// Runs reconcilers for what changed, one object at a time and in order, and queues their statuses.
import type { AppliedChange, LocalState } from '../state/local-state.js';
import { keyOf, keyOfRef } from '../state/local-state.js';
import { finalizeObject, unfinishedDeletions, wantsFinalize } from './finalize-step.js';
import type { Reconciler } from './reconciler.js';
import { stampReport } from './stamp-report.js';

export class ReconcileManager {
  private readonly byKind = new Map<string, Reconciler>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: LocalState,
    reconcilers: readonly Reconciler[],
    private readonly onStatus: () => void,
    private readonly log: { info(o: object, m: string): void; warn(o: object, m: string): void },
  ) {
    for (const r of reconcilers) this.byKind.set(r.kind, r);
  }

  /** Picks up objects a previous run persisted but did not reconcile or finalize (it was killed in between). */
  resume(): Promise<void> {
    return this.enqueue([...this.state.unreconciled().map((object) => ({ key: keyOf(object), object, deleted: false })), ...unfinishedDeletions(this.state)]);
  }

  enqueue(changes: readonly AppliedChange[]): Promise<void> {
    this.queue = this.queue.then(() => this.run(changes));
    return this.queue;
  }

  idle(): Promise<void> {
    return this.queue;
  }

  private async run(changes: readonly AppliedChange[]): Promise<void> {
    let reported = false;
    for (const ch of changes) {
      const r = this.byKind.get(ch.key.kind);
      if (!r) {
        // Nothing of this kind was made here, so nothing waits for a teardown.
        if (ch.deleted) this.state.forget(ch.key);
        continue;
      }
      if (ch.finalized || !ch.object) continue;
      try {
        if (wantsFinalize(ch)) {
          await finalizeObject(this.state, r, ch.object);
          this.log.info({ object: ch.key, left: ch.deleted }, 'finalized; release of this agent\'s finalizer queued');
          reported = true;
          continue;
        }
        const report = await r.reconcile(ch.object);
        if (report) {
          this.state.enqueueStatus(stampReport(this.state.lastReported(keyOfRef(report.ref)), report));
          reported = true;
        }
        this.state.markReconciled(ch.key, ch.object.metadata.generation ?? 0);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, object: ch.key }, wantsFinalize(ch) ? 'finalize failed; the object is kept until it succeeds' : 'reconcile failed');
      }
    }
    if (reported) this.onStatus();
  }
}
