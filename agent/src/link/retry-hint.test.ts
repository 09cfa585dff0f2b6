import { describe, expect, it } from 'vitest';
import { hintedDelay, MAX_RETRY_AFTER_MS, retryAfterMs } from './retry-hint.js';

describe('retry hint', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('reads delta-seconds and HTTP-dates, capped, and nothing from junk', () => {
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs([' 3 '], now)).toBe(3000);
    expect(retryAfterMs('Tue, 01 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    // A date in the past: come back now (the backoff's jitter still spreads the fleet).
    expect(retryAfterMs('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });

  it('waits the hint plus up to as long again, spread by the random draw', () => {
    expect(hintedDelay(4000, () => 0)).toBe(4000);
    expect(hintedDelay(4000, () => 0.5)).toBe(6000);
    expect(hintedDelay(4000, () => 0.999)).toBe(7996);
    // A zero hint is still not an instant redial of the whole fleet.
    expect(hintedDelay(0, () => 0.5)).toBe(150);
  });
});
