import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, backoffLimits } from './backoff.js';
import { InvalidOptionsError } from './errors.js';

describe('Backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0);
    expect(bottom.next()).toBe(0);
  });
  it('starts over after reset, and refuses nonsense', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0.5);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
    expect(() => new Backoff({ baseMs: 0 })).toThrow(InvalidOptionsError);
    expect(() => new Backoff({ baseMs: 100, capMs: 10 })).toThrow('backoff: needs 0 < baseMs (100) <= capMs (10), both finite');
  });
});

describe('backoffDelay', () => {
  const limits = backoffLimits({ baseMs: 1000, capMs: 60_000 });
  it('is a pure function of the attempt, the limits and the random draw', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, limits, () => 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
  it('stays at the cap for a key that fails forever, and treats a negative attempt as the first', () => {
    expect(backoffDelay(10_000, limits, () => 0.5)).toBe(30_000);
    expect(backoffDelay(-3, limits, () => 0.5)).toBe(500);
  });
  it('fills defaults and names where bad limits came from', () => {
    expect(backoffLimits()).toEqual({ baseMs: 500, capMs: 30_000 });
    expect(() => backoffLimits({ baseMs: Number.NaN }, 'flow step "x" retry')).toThrow(/^flow step "x" retry: needs/);
    expect(() => backoffLimits({ baseMs: 1, capMs: Number.POSITIVE_INFINITY })).toThrow(InvalidOptionsError);
  });
});
