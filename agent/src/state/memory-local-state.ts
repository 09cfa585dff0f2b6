// LocalState in memory, for simulated agents in scale tests: the same semantics as SqliteLocalState
// (tested against the same cases), without a file per agent.
import { isDeepStrictEqual } from 'node:util';
import type { ResourceObject } from '@outpost/proto';
import { keyOf, keyString, keyOfRef, type AppliedChange, type ChangeBatch, type LocalState, type ObjectKey, type PendingStatus, type StatusReport } from './local-state.js';

export class MemoryLocalState implements LocalState {
  private rev = 0;
  private statusSeq = 0;
  private readonly objects = new Map<string, { object: ResourceObject; reconciled: number }>();
  private readonly outbox = new Map<string, PendingStatus>();
  private readonly last = new Map<string, StatusReport>();

  revision(): number {
    return this.rev;
  }

  apply(batch: ChangeBatch): AppliedChange[] {
    const applied: AppliedChange[] = [];
    const seen = new Set<string>();
    for (const ch of batch.changes) {
      const k = keyString(ch.key);
      seen.add(k);
      const current = this.objects.get(k);
      if (!ch.object) {
        if (current && this.objects.delete(k)) {
          this.last.delete(k);
          applied.push({ key: ch.key, deleted: true });
        }
        continue;
      }
      if (current && isDeepStrictEqual(current.object, ch.object)) continue;
      this.objects.set(k, { object: ch.object, reconciled: current?.reconciled ?? 0 });
      applied.push({ key: ch.key, object: ch.object, deleted: false });
    }
    if (batch.snapshot) {
      for (const [k, v] of this.objects) {
        if (seen.has(k)) continue;
        this.objects.delete(k);
        this.last.delete(k);
        applied.push({ key: keyOf(v.object), deleted: true });
      }
    }
    this.rev = batch.revision;
    return applied;
  }

  get(key: ObjectKey): ResourceObject | undefined {
    return this.objects.get(keyString(key))?.object;
  }

  list(kind?: string): ResourceObject[] {
    return [...this.objects.values()].map((v) => v.object).filter((o) => !kind || o.kind === kind);
  }

  unreconciled(): ResourceObject[] {
    return [...this.objects.values()].filter((v) => v.reconciled < (v.object.metadata.generation ?? 0)).map((v) => v.object);
  }

  markReconciled(key: ObjectKey, generation: number): void {
    const v = this.objects.get(keyString(key));
    if (v) v.reconciled = generation;
  }

  enqueueStatus(report: StatusReport): number {
    const seq = ++this.statusSeq;
    const k = keyString(keyOfRef(report.ref));
    this.outbox.set(k, { ...report, seq });
    this.last.set(k, report);
    return seq;
  }

  lastReported(key: ObjectKey): StatusReport | undefined {
    return this.last.get(keyString(key));
  }

  pendingStatuses(): PendingStatus[] {
    return [...this.outbox.values()].sort((a, b) => a.seq - b.seq);
  }

  statusesStored(seq: number): void {
    for (const [k, s] of this.outbox) if (s.seq <= seq) this.outbox.delete(k);
  }

  close(): void {
    this.objects.clear();
    this.outbox.clear();
    this.last.clear();
  }
}
