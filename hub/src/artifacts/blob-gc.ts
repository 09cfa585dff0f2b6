// The content store's garbage collector: a blob no Release lists goes once it is older than the grace
// period (--blob-gc-grace), swept every --blob-gc-interval, soon after a Release is deleted or its
// artifact list changes, and when an admin asks (`outpost artifacts gc [--dry-run]`, POST
// /artifacts/v1/gc, audited).
//
// Why nothing is removed that someone needs (the rule):
// - A sweep decides and deletes in one synchronous step: the Releases are read from the store, then each
//   blob's file is checked and deleted, with no await in between. The store's only writer is this process,
//   so no Release create or update can land between the read and the deletes; one committed before the
//   sweep is seen by it, one after it finds its blobs either kept or gone, never half.
// - Uploads are written to blobs/tmp/ (never looked at here) and renamed in whole with a fresh mtime. A
//   PUT, HEAD or GET of a blob the hub holds already refreshes its mtime (BlobStore.touch). So
//   `outpost release import` (ask what the hub holds, upload the rest, create the Release) has the whole
//   grace for those steps, and a blob it was told is there does not go before its Release lists it.
// - A blob being served, or written into a bundle, is held (BlobStore.hold): skipped while it is.
//   (Its file is open already too, and on POSIX a deleted file stays readable to whoever has it open.)
import { rfc3339, type BlobGcReport, type Release } from '@outpost/proto';
import { systemClock, type Clock } from '../clock.js';
import type { BlobStore } from './blob-store.js';

export interface BlobGcOptions {
  blobs: BlobStore;
  /** The Releases whose artifact lists keep blobs (the store's, read at each sweep). */
  releases: () => readonly Release[];
  /** An unreferenced blob younger than this stays (its Release may be about to be created). */
  graceMs: number;
  /** How often the hub sweeps by itself; 0: only after a Release change and on request. */
  everyMs: number;
  clock?: Clock;
  log?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /**
   * Records audit rows, once per sweep: each removal (`delete-blob`, named by its digest), and the sweep
   * itself when an admin asked for it (`gc-blobs`, or `gc-blobs-dry-run`).
   */
  audit?: (actor: string, rows: ReadonlyArray<{ verb: string; name: string }>) => void;
}

/** Who removed what, in the audit log, when the hub sweeps by itself. */
export const GC_ACTOR = 'hub:blob-gc';

/** One sweep's account (the admin API answers it as is). */
export type BlobGcResult = BlobGcReport;

/** The digests some Release lists. */
export function referencedDigests(releases: readonly Release[]): Set<string> {
  const out = new Set<string>();
  for (const r of releases) for (const a of r.spec?.artifacts ?? []) if (a.digest) out.add(a.digest);
  return out;
}

/** A sweep after a Release change waits this long, so a burst of deletes is one sweep. */
const AFTER_CHANGE_MS = 1_000;

export class BlobGc {
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: BlobGcOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** One sweep now, by `actor`; with `dryRun`, what it would remove, removing nothing. */
  sweep(opts: { dryRun?: boolean; actor?: string } = {}): BlobGcResult {
    const dryRun = opts.dryRun === true;
    const actor = opts.actor ?? GC_ACTOR;
    // From here to the last delete: synchronous (the rule above).
    const referenced = referencedDigests(this.o.releases());
    const cutoff = this.clock.now().getTime() - this.o.graceMs;
    const result: BlobGcResult = { dryRun, removed: [], freedBytes: 0, referenced: 0, fresh: 0, held: 0, graceSeconds: Math.round(this.o.graceMs / 1000) };
    for (const b of this.o.blobs.list()) {
      if (referenced.has(b.digest)) result.referenced++;
      else if (b.mtimeMs > cutoff) result.fresh++;
      else if (this.o.blobs.held(b.digest)) result.held++;
      else {
        if (!dryRun) this.o.blobs.remove(b.digest);
        result.removed.push({ digest: b.digest, size: b.size, modified: rfc3339(new Date(b.mtimeMs)) });
        result.freedBytes += b.size;
      }
    }
    const rows = [...(opts.actor ? [{ verb: dryRun ? 'gc-blobs-dry-run' : 'gc-blobs', name: '' }] : []), ...(dryRun ? [] : result.removed.map((r) => ({ verb: 'delete-blob', name: r.digest })))];
    if (rows.length) this.o.audit?.(actor, rows);
    if (!dryRun && result.removed.length) this.o.log?.info({ removed: result.removed.length, freedBytes: result.freedBytes, kept: result.referenced + result.fresh + result.held }, 'blobs no Release lists removed');
    return result;
  }

  /** A sweep shortly (a Release was deleted, or its artifacts changed). */
  releasesChanged(): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.sweepLogged();
    }, AFTER_CHANGE_MS);
    this.soon.unref();
  }

  start(): void {
    this.stopped = false;
    if (this.o.everyMs > 0) {
      this.timer = setInterval(() => this.sweepLogged(), this.o.everyMs);
      this.timer.unref();
    }
  }

  /** Idempotent. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
  }

  /** A sweep of the hub's own: a failure (a disk error) is logged and the next one tries again. */
  private sweepLogged(): void {
    if (this.stopped) return;
    try {
      this.sweep();
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'the blob garbage collector failed; it tries again at its next sweep');
    }
  }
}
