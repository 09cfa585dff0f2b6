import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimitedWarning } from './rate-limited-warning.js';

afterEach(() => vi.useRealTimers());

describe('RateLimitedWarning', () => {
  it('logs the first occurrence at once, then one line per interval counting the rest', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: Array<[object, string]> = [];
    const w = new RateLimitedWarning({ warn: (o, m) => lines.push([o, m]) }, 'limit tripped', 10_000);
    w.note({ address: 'a' });
    expect(lines).toEqual([[{ address: 'a', occurrences: 1 }, 'limit tripped']]);
    for (let i = 0; i < 999; i++) w.note({ address: i % 2 ? 'b' : 'c' });
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(9_999);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lines[1]).toEqual([{ address: 'c', occurrences: 999 }, 'limit tripped']);
    // Quiet: nothing more is logged, and the next occurrence after the interval is logged at once.
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
    w.note({ address: 'd' });
    expect(lines[2]).toEqual([{ address: 'd', occurrences: 1 }, 'limit tripped']);
    w.stop();
  });

  it('drops what it still holds when stopped', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: object[] = [];
    const w = new RateLimitedWarning({ warn: (o) => lines.push(o) }, 'x', 1000);
    w.note();
    w.note();
    w.stop();
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(1);
  });
});
