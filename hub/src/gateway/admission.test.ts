import { afterEach, describe, expect, it, vi } from 'vitest';
import { Admission } from './admission.js';

const socket = () => ({ destroy: vi.fn() });

describe('Admission', () => {
  afterEach(() => vi.useRealTimers());

  it('admits at once while the loop keeps up, a bounded number per sample', () => {
    vi.useFakeTimers();
    let t = 0;
    const admitted: object[] = [];
    const a = new Admission((s) => admitted.push(s), { admitPerSample: 2, sampleEveryMs: 20 }, () => t);
    const s = [socket(), socket(), socket()];
    for (const x of s) a.offer(x);
    expect(admitted).toEqual([s[0], s[1]]);
    expect(a.waiting).toBe(1);
    t = 20;
    vi.advanceTimersByTime(20);
    expect(admitted).toEqual(s);
    a.stop();
  });

  it('holds connections while the loop lags, and closes those that waited too long', () => {
    vi.useFakeTimers();
    let t = 0;
    const admitted: object[] = [];
    const a = new Admission((s) => admitted.push(s), { maxLagMs: 100, sampleEveryMs: 20, maxWaitMs: 1000 }, () => t);
    // the loop was blocked: the sample comes 500 ms late
    t = 520;
    vi.advanceTimersByTime(20);
    const old = socket();
    a.offer(old);
    expect(admitted).toEqual([]);
    t = 1600;
    vi.advanceTimersByTime(20); // lags again, and `old` has waited 1,080 ms
    const fresh = socket();
    a.offer(fresh);
    expect(old.destroy).toHaveBeenCalled();
    expect(a.refused).toBe(1);
    t = 1620;
    vi.advanceTimersByTime(20);
    expect(admitted).toEqual([fresh]);
    a.stop();
  });

  it('admits no more than maxInFlight handshakes at once, and the next as soon as one settles', () => {
    vi.useFakeTimers();
    const t = 0;
    const admitted: object[] = [];
    const a = new Admission((s) => admitted.push(s), { maxInFlight: 2, admitPerSample: 100, sampleEveryMs: 20 }, () => t);
    const s = [socket(), socket(), socket()];
    for (const x of s) a.offer(x);
    expect(admitted).toEqual([s[0], s[1]]);
    expect(a.handshaking).toBe(2);
    vi.advanceTimersByTime(40); // on time: still full
    expect(admitted).toHaveLength(2);
    a.settled();
    vi.advanceTimersByTime(0); // the drain waits one turn (setImmediate)
    expect(admitted).toEqual(s);
    expect(a.handshaking).toBe(2);
    a.stop();
  });
});
