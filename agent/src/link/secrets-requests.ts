// Which Clusters' CAs to ask the hub for, and when: pure bookkeeping, so the hub link only sends what this
// says. A Cluster held without keys is asked for once (batched, at most MAX_SECRETS_PER_REQUEST refs a
// frame) and not again while the ask is in flight; a `missing` answer backs that Cluster off (capped
// exponential, with a floor, so a hub that keeps saying no is never asked in a loop), until the Cluster
// changes, when it is asked at once. A lost connection drops what was in flight, so it is asked again on
// the next; backoffs survive the reconnect.
import { MAX_SECRETS_PER_REQUEST, type ObjectRef } from '@outpost/proto';
import { backoffDelay, backoffLimits, type BackoffLimits, type BackoffOptions } from '../engine/backoff.js';

/** A Cluster as the agent holds it: what a request names and what tells a change. */
export interface HeldCluster {
  ref: ObjectRef & { uid: string };
  resourceVersion: string;
}

/** After a `missing`: 5 s up to 10 minutes, never sooner than MIN_RETRY_MS. */
export const SECRETS_BACKOFF: BackoffOptions = { baseMs: 5_000, capMs: 600_000 };
const MIN_RETRY_MS = 1_000;

interface Missing {
  resourceVersion: string;
  failures: number;
  retryAt: number;
}

export class SecretsRequests {
  private readonly inFlight = new Set<string>();
  private readonly missing = new Map<string, Missing>();
  private readonly limits: BackoffLimits;

  constructor(opts: BackoffOptions = SECRETS_BACKOFF, private readonly random: () => number = Math.random) {
    this.limits = backoffLimits(opts, 'cluster secrets backoff');
  }

  /**
   * The requests to send now for `held` Clusters (`has` says whose keys are here), marked in flight. Forgets
   * the backoff of Clusters no longer held.
   */
  due(held: readonly HeldCluster[], has: (uid: string) => boolean, now: number): ObjectRef[][] {
    const uids = new Set(held.map((c) => c.ref.uid));
    for (const uid of this.missing.keys()) if (!uids.has(uid)) this.missing.delete(uid);
    const refs: ObjectRef[] = [];
    for (const c of held) {
      const uid = c.ref.uid;
      if (!uid || this.inFlight.has(uid) || has(uid)) continue;
      const m = this.missing.get(uid);
      if (m && m.resourceVersion === c.resourceVersion && m.retryAt > now) continue;
      this.inFlight.add(uid);
      refs.push(c.ref);
    }
    const batches: ObjectRef[][] = [];
    for (let i = 0; i < refs.length; i += MAX_SECRETS_PER_REQUEST) batches.push(refs.slice(i, i + MAX_SECRETS_PER_REQUEST));
    return batches;
  }

  /** The hub sent the keys of `uid` (kept by the caller). */
  delivered(uid: string): void {
    this.inFlight.delete(uid);
    this.missing.delete(uid);
  }

  /** The hub had none for `uid` (as the Cluster was at `resourceVersion`); returns the wait before asking again. */
  refused(uid: string, resourceVersion: string, now: number): number {
    this.inFlight.delete(uid);
    const failures = (this.missing.get(uid)?.failures ?? 0) + 1;
    const wait = Math.max(MIN_RETRY_MS, backoffDelay(failures - 1, this.limits, this.random));
    this.missing.set(uid, { resourceVersion, failures, retryAt: now + wait });
    return wait;
  }

  /** The connection went: nothing is in flight any more. */
  disconnected(): void {
    this.inFlight.clear();
  }

  /** When the earliest backed-off Cluster may be asked again; undefined when none waits. */
  nextRetryAt(): number | undefined {
    let at: number | undefined;
    for (const m of this.missing.values()) at = Math.min(at ?? Infinity, m.retryAt);
    return at;
  }
}
