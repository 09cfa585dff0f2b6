import { describe, expect, it } from 'vitest';
import { CompletionRate, shedVerdict } from './shedding.js';

describe('shedVerdict', () => {
  it('takes upgrades while the loop keeps up, whatever the backlog', () => {
    expect(shedVerdict({ lagMs: 250, backlog: 10_000, completedPerSecond: 10 })).toEqual({ shed: false });
  });

  it('refuses past the lag bound with a Retry-After of the backlog at the completion rate, bounded', () => {
    expect(shedVerdict({ lagMs: 400, backlog: 1000, completedPerSecond: 100 })).toEqual({ shed: true, retryAfterSeconds: 10 });
    expect(shedVerdict({ lagMs: 400, backlog: 1001, completedPerSecond: 100 })).toEqual({ shed: true, retryAfterSeconds: 11 });
    expect(shedVerdict({ lagMs: 400, backlog: 0, completedPerSecond: 100 })).toEqual({ shed: true, retryAfterSeconds: 1 });
    expect(shedVerdict({ lagMs: 400, backlog: 1e6, completedPerSecond: 100 })).toEqual({ shed: true, retryAfterSeconds: 60 });
    // Nothing completed lately: the longest wait.
    expect(shedVerdict({ lagMs: 400, backlog: 5, completedPerSecond: 0 }, { maxRetrySeconds: 30 })).toEqual({ shed: true, retryAfterSeconds: 30 });
    expect(shedVerdict({ lagMs: 120, backlog: 5, completedPerSecond: 5 }, { maxLagMs: 100, minRetrySeconds: 2 })).toEqual({ shed: true, retryAfterSeconds: 2 });
  });
});

describe('CompletionRate', () => {
  it('measures completions per second once a second has passed, smoothed over its window', () => {
    const r = new CompletionRate(0, 5000);
    for (let i = 0; i < 200; i++) r.completed();
    expect(r.rate(500)).toBe(0);
    expect(r.rate(1000)).toBe(200);
    // A second with none: the mean moves a fifth of the way (1 s of a 5 s window).
    expect(r.rate(2000)).toBe(160);
    for (let i = 0; i < 1000; i++) r.completed();
    expect(r.rate(4000)).toBeCloseTo(160 + 0.4 * (500 - 160));
  });
});
