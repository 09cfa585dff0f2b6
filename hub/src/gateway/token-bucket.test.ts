import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then its rate', () => {
    const b = new TokenBucket(3, 2, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    // 2 per second: one more after 500 ms, not before
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true);
    expect(b.msUntil(500)).toBe(500);
  });

  it('refills no higher than its capacity', () => {
    const b = new TokenBucket(3, 10, 0);
    b.take(0, 3);
    expect(b.available(60_000)).toBe(3);
    expect(b.full(60_000)).toBe(true);
  });

  it('a charge on credit is paid back before the next token', () => {
    const b = new TokenBucket(1000, 1000, 0);
    b.charge(0, 3000); // an answer of 3000 bytes with 1000 in the bucket
    expect(b.available(0)).toBe(-2000);
    expect(b.ready(1000)).toBe(false);
    expect(b.msUntil(1000)).toBe(1001);
    expect(b.ready(2001)).toBe(true);
  });

  it('refuses a capacity or rate of zero', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});
