import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StatusThrottle } from './status-throttle.js';

interface Item {
  key: string;
  v: number;
}

describe('StatusThrottle', () => {
  let now = 0;
  let recorded: Item[];
  let acks: number[];
  /** Reports being recorded, finished by the test (the primary's answer over IPC comes later). */
  let inFlight: Array<() => void>;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    recorded = [];
    acks = [];
    inFlight = [];
  });
  afterEach(() => vi.useRealTimers());

  function throttle(async = false): StatusThrottle<Item> {
    return new StatusThrottle<Item>(
      { perSecond: 10, burst: 3 },
      (item, done) => {
        recorded.push(item);
        if (async) inFlight.push(done);
        else done();
      },
      (seq) => acks.push(seq),
      () => now,
    );
  }

  function advance(ms: number): void {
    now += ms;
    vi.advanceTimersByTime(ms);
  }

  it('records a burst at once, then the latest report per object at the rate', () => {
    const t = throttle();
    let seq = 0;
    // 4 objects x 100 reports each: the first three go at once, the rest wait, latest per object
    const outcome = { recorded: 0, waiting: 0 };
    for (let v = 0; v < 100; v++) for (const key of ['a', 'b', 'c', 'd']) outcome[t.offer(key, ++seq, { key, v })]++;
    expect(outcome.recorded).toBe(3);
    expect(t.waitingCount).toBe(4);
    // acked up to the last report before the first that waits (seq 4 = d's first)
    expect(acks).toEqual([1, 2, 3]);
    advance(100);
    expect(recorded.length).toBe(4);
    advance(300);
    expect(recorded.slice(3)).toEqual([{ key: 'd', v: 99 }, { key: 'a', v: 99 }, { key: 'b', v: 99 }, { key: 'c', v: 99 }]);
    expect(acks.at(-1)).toBe(400);
    expect(t.waitingCount).toBe(0);
    advance(1000);
    expect(t.idle()).toBe(true);
  });

  it('never acks past a report still being recorded', () => {
    const t = throttle(true);
    t.offer('a', 1, { key: 'a', v: 1 });
    t.offer('b', 2, { key: 'b', v: 1 });
    expect(acks).toEqual([]);
    inFlight[1]!(); // b recorded first: a (seq 1) is still open
    expect(acks).toEqual([]);
    inFlight[0]!();
    expect(acks).toEqual([2]);
    expect(t.idle()).toBe(false); // the bucket is not full yet
  });

  it('a replaced report holds the ack until its successor is recorded', () => {
    const t = throttle();
    for (let seq = 1; seq <= 3; seq++) t.offer(`k${seq}`, seq, { key: `k${seq}`, v: 0 });
    t.offer('x', 4, { key: 'x', v: 1 });
    t.offer('x', 5, { key: 'x', v: 2 });
    t.settled(6); // refused before it was offered: final
    expect(acks.at(-1)).toBe(3);
    advance(100);
    expect(recorded.at(-1)).toEqual({ key: 'x', v: 2 });
    expect(acks.at(-1)).toBe(6);
  });

  it('counts a new connection afresh, so an agent whose seqs start over is acked', () => {
    const t = throttle();
    t.offer('a', 50, { key: 'a', v: 0 });
    expect(acks).toEqual([50]);
    t.connected();
    t.offer('a', 1, { key: 'a', v: 1 });
    expect(acks).toEqual([50, 1]);
  });

  it('tells the agent it is coalesced at most once per interval', () => {
    const t = throttle();
    for (let seq = 1; seq <= 3; seq++) t.offer('a', seq, { key: 'a', v: seq });
    expect(t.tellDue(10_000)).toBe(false); // nothing waited yet: the burst took them
    t.offer('b', 4, { key: 'b', v: 0 });
    expect(t.tellDue(10_000)).toBe(true);
    expect(t.tellDue(10_000)).toBe(false);
    advance(10_000);
    expect(t.tellDue(10_000)).toBe(true);
  });
});
