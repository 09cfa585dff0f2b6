import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

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
    expect(() => new Backoff({ baseMs: 0 })).toThrow();
    expect(() => new Backoff({ baseMs: 100, capMs: 10 })).toThrow();
  });
});
