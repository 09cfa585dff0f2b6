import { describe, expect, it } from 'vitest';
import { CompletionRate, shedShare, shedVerdict } from './shedding.js';

const always = () => 0;

describe('shedVerdict', () => {
  it('takes upgrades while the loop keeps up, whatever the backlog', () => {
    expect(shedVerdict({ lagMs: 250, backlog: 10_000, completedPerSecond: 10 })).toEqual({ shed: false });
  });

  it('refuses a share growing with the lag, never all', () => {
    expect(shedShare(250)).toBe(0);
    expect(shedShare(625)).toBeCloseTo(0.45);
    expect(shedShare(1000)).toBeCloseTo(0.9);
    expect(shedShare(5000)).toBeCloseTo(0.9);
    // A draw at or above the share is taken.
    expect(shedVerdict({ lagMs: 625, backlog: 10, completedPerSecond: 10 }, {}, () => 0.45)).toEqual({ shed: false });
    expect(shedVerdict({ lagMs: 5000, backlog: 10, completedPerSecond: 10 }, {}, () => 0.9)).toEqual({ shed: false });
    expect(shedVerdict({ lagMs: 625, backlog: 10, completedPerSecond: 10 }, {}, () => 0.44).shed).toBe(true);
  });

  it('refuses past the lag bound with a Retry-After of the backlog at the completion rate, bounded', () => {
    expect(shedVerdict({ lagMs: 400, backlog: 1000, completedPerSecond: 100 }, {}, always)).toEqual({ shed: true, retryAfterSeconds: 10 });
    expect(shedVerdict({ lagMs: 400, backlog: 1001, completedPerSecond: 100 }, {}, always)).toEqual({ shed: true, retryAfterSeconds: 11 });
    expect(shedVerdict({ lagMs: 400, backlog: 0, completedPerSecond: 100 }, {}, always)).toEqual({ shed: true, retryAfterSeconds: 1 });
    expect(shedVerdict({ lagMs: 400, backlog: 1e6, completedPerSecond: 100 }, {}, always)).toEqual({ shed: true, retryAfterSeconds: 60 });
    // Nothing completed yet (a process that just started): the backlog at the floor rate, not the longest wait.
    expect(shedVerdict({ lagMs: 400, backlog: 500, completedPerSecond: 0 }, {}, always)).toEqual({ shed: true, retryAfterSeconds: 10 });
    expect(shedVerdict({ lagMs: 400, backlog: 500, completedPerSecond: 0 }, { floorPerSecond: 100 }, always)).toEqual({ shed: true, retryAfterSeconds: 5 });
    expect(shedVerdict({ lagMs: 120, backlog: 5, completedPerSecond: 5 }, { maxLagMs: 100, minRetrySeconds: 2 }, always)).toEqual({ shed: true, retryAfterSeconds: 2 });
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
