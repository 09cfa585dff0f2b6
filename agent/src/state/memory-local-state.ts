// LocalState in memory, for simulated agents in scale tests: the same semantics as SqliteLocalState
// (tested against the same cases), without a file per agent.
import type { ResourceObject } from '@outpost/proto';
import {
  isBeingDeleted, isFinalizedReport, keyOf, keyOfRef, keyString,
  type AppliedChange, type ChangeBatch, type LocalState, type ObjectKey, type OutboxReport, type PendingStatus, type StatusReport,
} from './local-state.js';
import { rowChange, type StoredRow } from './row-change.js';

export class MemoryLocalState implements LocalState {
  private rev = 0;
  private statusSeq = 0;
  private readonly objects = new Map<string, StoredRow>();
  private readonly outbox = new Map<string, PendingStatus>();
  private readonly last = new Map<string, StatusReport>();

  revision(): number {
    return this.rev;
  }

  apply(batch: ChangeBatch): AppliedChange[] {
    const applied: AppliedChange[] = [];
    const seen = new Set<string>();
    const change = (key: ObjectKey, object: ResourceObject | undefined): void => {
      const k = keyString(key);
      const ch = rowChange(key, this.objects.get(k), object);
      if (!ch) return;
      if (ch.row) this.objects.set(k, ch.row);
      else this.objects.delete(k);
      // Gone from the view: a new object of that name starts without a last report.
      if (ch.applied.deleted) this.last.delete(k);
      applied.push(ch.applied);
    };
    for (const ch of batch.changes) {
      seen.add(keyString(ch.key));
      change(ch.key, ch.object);
    }
    if (batch.snapshot) {
      for (const [k, row] of [...this.objects]) if (!seen.has(k) && !row.tombstone) change(keyOf(row.object), undefined);
    }
    this.rev = batch.revision;
    return applied;
  }

  get(key: ObjectKey): ResourceObject | undefined {
    const row = this.objects.get(keyString(key));
    return row && !row.tombstone ? row.object : undefined;
  }

  list(kind?: string): ResourceObject[] {
    return this.rows((r) => !r.tombstone && (!kind || r.object.kind === kind));
  }

  unreconciled(): ResourceObject[] {
    return this.rows((r) => !r.tombstone && !isBeingDeleted(r.object) && r.reconciled < (r.object.metadata.generation ?? 0));
  }

  markReconciled(key: ObjectKey, generation: number): void {
    const row = this.objects.get(keyString(key));
    if (row && !row.tombstone) row.reconciled = generation;
  }

  tombstones(): ResourceObject[] {
    return this.rows((r) => r.tombstone);
  }

  beingDeleted(): ResourceObject[] {
    return this.rows((r) => !r.tombstone && !r.finalized && isBeingDeleted(r.object));
  }

  forget(key: ObjectKey): void {
    const k = keyString(key);
    const row = this.objects.get(k);
    if (row?.tombstone) this.objects.delete(k);
    else if (row && isBeingDeleted(row.object)) row.finalized = true;
  }

  enqueueStatus(report: OutboxReport): number {
    const seq = ++this.statusSeq;
    const k = keyString(keyOfRef(report.ref));
    this.outbox.set(k, { ...report, seq });
    if (!isFinalizedReport(report)) this.last.set(k, report);
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

  private rows(keep: (r: StoredRow) => boolean): ResourceObject[] {
    return [...this.objects.values()].filter(keep).map((r) => r.object);
  }
}
