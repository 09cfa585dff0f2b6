// One agent's Statuses, metered: within its rate each is recorded at once; beyond it they wait, and a
// newer report of an object replaces the one still waiting for it, so a flood of reports costs the
// store at most the rate's writes while the latest status of every object still lands, a token later.
// Acks stay honest: the agent's outbox drops every report up to an acked seq (Ack{statusSeq} is
// cumulative), so a seq is acked only once it and every report before it was recorded or refused.
import { TokenBucket } from './token-bucket.js';

export interface StatusRate {
  /** Reports recorded per second, on average. */
  perSecond: number;
  /** Reports recorded at once after a quiet spell (an agent's outbox after a reconnect). */
  burst: number;
}

/** What an agent may make the hub write: a seed's restart flushes some hundreds of reports at once. */
export const AGENT_STATUS_RATE: StatusRate = { perSecond: 20, burst: 200 };

interface Waiting<T> {
  item: T;
  /** The lowest seq this entry stands for (its own, or that of a report it replaced). */
  floor: number;
}

export class StatusThrottle<T> {
  private readonly bucket: TokenBucket;
  private readonly waiting = new Map<string, Waiting<T>>();
  /** The floors of the entries waiting or being recorded, counted (two may share one). */
  private readonly open = new Map<number, number>();
  private inFlight = 0;
  private highest = 0;
  private acked = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Reports that had to wait since the agent was last told. */
  coalesced = 0;
  private toldAt = Number.NEGATIVE_INFINITY;

  constructor(
    rate: StatusRate,
    /** Records one report; calls `done` once it is recorded or refused. */
    private readonly apply: (item: T, done: () => void) => void,
    /** Every report up to `seq` is recorded or refused. */
    private readonly ack: (seq: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.bucket = new TokenBucket(rate.burst, rate.perSecond, now());
  }

  /** A report of the object `key`. Returns whether it had to wait (was coalesced) rather than go at once. */
  offer(key: string, seq: number, item: T): 'recorded' | 'waiting' {
    this.highest = Math.max(this.highest, seq);
    const previous = this.waiting.get(key);
    if (previous) {
      // Replaced: it keeps its place in line, and stands for the older report's seq too.
      const floor = Math.min(previous.floor, seq);
      this.release(previous.floor);
      this.hold(floor);
      this.waiting.set(key, { item, floor });
      this.coalesced++;
      return 'waiting';
    }
    this.hold(seq);
    if (this.waiting.size === 0 && this.bucket.take(this.now())) {
      this.run(item, seq);
      return 'recorded';
    }
    this.waiting.set(key, { item, floor: seq });
    this.coalesced++;
    this.schedule();
    return 'waiting';
  }

  /**
   * A new connection of the agent: its seqs are counted afresh (an agent whose local state was wiped
   * starts again at 1, and must still be acked). Reports still open hold the ack back as before.
   */
  connected(): void {
    this.highest = 0;
    this.acked = 0;
  }

  /** A report refused before it was offered (too large to hold): final, so acked in its turn. */
  settled(seq: number): void {
    this.highest = Math.max(this.highest, seq);
    this.maybeAck();
  }

  /** Whether the agent should hear that its reports are coalesced: at most once per `everyMs`. */
  tellDue(everyMs: number): boolean {
    const now = this.now();
    if (this.coalesced === 0 || now - this.toldAt < everyMs) return false;
    this.toldAt = now;
    return true;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Nothing waits or is being recorded and the bucket is full: its owner may forget it. */
  idle(): boolean {
    return this.waiting.size === 0 && this.inFlight === 0 && this.bucket.full(this.now());
  }

  /** Drops what waits (the hub is stopping; unacked reports stay in the agents' outboxes). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }

  private run(item: T, floor: number): void {
    this.inFlight++;
    let finished = false;
    this.apply(item, () => {
      if (finished) return;
      finished = true;
      this.inFlight--;
      this.release(floor);
      this.maybeAck();
    });
  }

  private drain(): void {
    this.timer = undefined;
    for (const [key, w] of this.waiting) {
      if (!this.bucket.take(this.now())) break;
      this.waiting.delete(key);
      this.run(w.item, w.floor);
    }
    if (this.waiting.size > 0) this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.drain(), Math.max(1, this.bucket.msUntil(this.now())));
    this.timer.unref();
  }

  private hold(floor: number): void {
    this.open.set(floor, (this.open.get(floor) ?? 0) + 1);
  }

  private release(floor: number): void {
    const n = (this.open.get(floor) ?? 1) - 1;
    if (n > 0) this.open.set(floor, n);
    else this.open.delete(floor);
  }

  private maybeAck(): void {
    let lowestOpen = Number.POSITIVE_INFINITY;
    for (const floor of this.open.keys()) lowestOpen = Math.min(lowestOpen, floor);
    const ackable = Math.min(this.highest, lowestOpen - 1);
    if (ackable <= this.acked) return;
    this.acked = ackable;
    this.ack(ackable);
  }
}
