// A Clock that moves only when told, for tests: a retry after a 4 s backoff is one `advance(4000)` away,
// and `pendingDelays()` shows exactly which delays the code under test asked for.
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Clock, TimerHandle } from './clock.js';

interface Timer {
  readonly at: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  /** By id, which is also creation order: timers due at the same instant fire in the order they were set. */
  private readonly timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    // As Node's setTimeout: a negative or NaN delay means "as soon as possible".
    this.timers.set(id, { at: this.current + (ms > 0 ? ms : 0), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.timers.delete(handle);
  }

  /** How far from now each pending timer is, soonest first. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.current).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way in time order. After each one it lets the
   * promise work that timer started run, so timers set by that work, and due within the window, fire too.
   */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    await this.settle();
    for (let due = this.earliest(until); due; due = this.earliest(until)) {
      this.timers.delete(due.id);
      this.current = due.timer.at;
      due.timer.fn();
      await this.settle();
    }
    this.current = until;
    await this.settle();
  }

  /** Lets pending promise callbacks run, without moving time. */
  async settle(): Promise<void> {
    // Every microtask queued before a macrotask runs first, however long its chain.
    await nextMacrotask();
  }

  private earliest(until: number): { id: number; timer: Timer } | undefined {
    let best: { id: number; timer: Timer } | undefined;
    for (const [id, timer] of this.timers) if (timer.at <= until && (!best || timer.at < best.timer.at)) best = { id, timer };
    return best;
  }
}
