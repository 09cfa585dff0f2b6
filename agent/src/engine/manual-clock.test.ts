import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from './clock.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('fires timers in time order, then creation order, only when advanced past them', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const gone = clock.setTimeout(() => fired.push('cleared'), 5);
    clock.clearTimeout(gone);
    expect(clock.pendingDelays()).toEqual([10, 20, 20]);
    await clock.advance(15);
    expect(fired).toEqual(['a@1010']);
    expect(clock.now()).toBe(1015);
    await clock.advance(5);
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1020']);
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('fires timers that promise work sets within the same advance', async () => {
    const clock = new ManualClock();
    const woke: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100);
        woke.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(250);
    expect(woke).toEqual([100, 200]);
    await clock.advance(50);
    await done;
    expect(woke).toEqual([100, 200, 300]);
  });
});

describe('sleep', () => {
  it('rejects with the reason as soon as the signal aborts, and clears its timer', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const slept = sleep(clock, 1000, ac.signal);
    expect(clock.pendingDelays()).toEqual([1000]);
    ac.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pendingDelays()).toEqual([]);
    await expect(sleep(clock, 5, ac.signal)).rejects.toThrow('stop');
  });

  it('works on the system clock', async () => {
    const t0 = systemClock.now();
    await sleep(systemClock, 5);
    expect(systemClock.now() - t0).toBeGreaterThanOrEqual(4);
  });
});
