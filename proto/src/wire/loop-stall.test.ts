import { describe, expect, it } from 'vitest';
import { LoopStall } from './loop-stall.js';

describe('LoopStall', () => {
  it('counts only lateness past the tolerance, including a sample overdue now', () => {
    const s = new LoopStall(100, 50, 10_000);
    s.tick(0);
    s.tick(140); // 40 ms late: ordinary work
    expect(s.stalled(140)).toBe(0);
    expect(s.stalled(1240)).toBe(1000); // due at 240, overdue 1,000 at 1,240
    s.tick(1240);
    expect(s.stalled(1240)).toBe(1000);
    s.tick(1340);
    expect(s.stalled(1340)).toBe(1000);
  });

  it('answers the stall within a window, forgetting what is older than it keeps', () => {
    const s = new LoopStall(100, 50, 5000);
    s.tick(0);
    s.tick(600); // 500 late
    s.tick(700);
    s.tick(3000); // 2,200 late
    expect(s.stalledWithin(0, 3000)).toBe(2700);
    expect(s.stalledWithin(1000, 3000)).toBe(2200);
    expect(s.maxRecent(3000)).toBe(2200);
    for (let t = 3100; t <= 9000; t += 100) s.tick(t);
    expect(s.stalledWithin(0, 9000)).toBe(0);
    expect(s.stalled(9000)).toBe(2700);
  });

  it('refuses a sampling period or window that is not positive', () => {
    expect(() => new LoopStall(0, 50, 100)).toThrow(/everyMs > 0/);
  });
});
