import { describe, expect, it } from 'vitest';
import { JoinThrottle } from './join-throttle.js';

function throttle(maxFailuresPerMinute: number, maxAddresses?: number) {
  let t = 0;
  const lines: Array<[object, string]> = [];
  const j = new JoinThrottle({ maxFailuresPerMinute, now: () => t, ...(maxAddresses ? { maxAddresses } : {}) }, { warn: (o, m) => lines.push([o, m]) });
  return { j, lines, advance: (ms: number) => (t += ms) };
}

describe('JoinThrottle', () => {
  it('lets an address fail a burst, then says how long to wait, one more try per refill', () => {
    const { j, advance } = throttle(10);
    for (let i = 0; i < 10; i++) {
      expect(j.retryAfterSeconds('10.0.0.1')).toBeUndefined();
      j.failed('10.0.0.1', 'TOKEN_UNKNOWN');
    }
    expect(j.retryAfterSeconds('10.0.0.1')).toBe(6);
    expect(j.retryAfterSeconds('10.0.0.2')).toBeUndefined();
    advance(3000);
    expect(j.retryAfterSeconds('10.0.0.1')).toBe(3);
    advance(3000);
    expect(j.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    j.failed('10.0.0.1', 'TOKEN_UNKNOWN');
    expect(j.retryAfterSeconds('10.0.0.1')).toBe(6);
    // A minute's quiet refills the whole burst, and no more.
    advance(600_000);
    for (let i = 0; i < 10; i++) j.failed('10.0.0.1', 'TOKEN_UNKNOWN');
    expect(j.retryAfterSeconds('10.0.0.1')).toBe(6);
    j.stop();
  });

  it('logs the first failure and the first refusal at once, then at most one line of each per 10 s', () => {
    const { j, lines, advance } = throttle(2);
    for (let i = 0; i < 1000; i++) if (j.retryAfterSeconds('10.0.0.9') === undefined) j.failed('10.0.0.9', 'TOKEN_UNKNOWN');
    expect(lines).toEqual([
      [{ address: '10.0.0.9', code: 'TOKEN_UNKNOWN', occurrences: 1 }, 'join refused: a wrong, used or expired bootstrap token'],
      [{ address: '10.0.0.9', retryAfterSeconds: 30, occurrences: 1 }, 'joins throttled: too many failed joins from one address, answered 429 (--max-failed-joins-per-minute)'],
    ]);
    advance(10_000);
    j.retryAfterSeconds('10.0.0.9');
    expect(lines).toHaveLength(3);
    j.stop();
  });

  it('counts an IPv6 client by its /64', () => {
    const { j } = throttle(1);
    j.failed('2001:db8:1:2::1', 'TOKEN_UNKNOWN');
    expect(j.retryAfterSeconds('2001:db8:1:2:ffff::9')).toBe(60);
    expect(j.retryAfterSeconds('2001:db8:1:3::1')).toBeUndefined();
    j.stop();
  });

  it('remembers a bounded number of addresses, forgetting the least recently failed', () => {
    const { j } = throttle(1, 2);
    j.failed('a', 'x');
    j.failed('b', 'x');
    j.failed('a', 'x');
    j.failed('c', 'x');
    // 'a' failed twice (its bucket is a whole minute in debt), 'b' was forgotten.
    expect([j.retryAfterSeconds('a'), j.retryAfterSeconds('b'), j.retryAfterSeconds('c')]).toEqual([120, undefined, 60]);
    j.stop();
  });
});
