import { describe, expect, it } from 'vitest';
import { SeenFilter, SEEN_FORWARD_EVERY_MS } from './seen-filter.js';
import { LAST_SEEN_EVERY_MS } from './presence.js';

describe('SeenFilter', () => {
  it("passes an agent's first seen, then none for the interval, then the next", () => {
    const f = new SeenFilter(60_000);
    expect(f.pass('a', 1_000)).toBe(true);
    expect(f.pass('a', 16_000)).toBe(false);
    expect(f.pass('a', 60_999)).toBe(false);
    expect(f.pass('a', 61_000)).toBe(true);
    expect(f.pass('a', 76_000)).toBe(false);
  });

  it('keeps each agent apart', () => {
    const f = new SeenFilter(60_000);
    expect(f.pass('a', 0)).toBe(true);
    expect(f.pass('b', 1)).toBe(true);
    expect(f.pass('a', 2)).toBe(false);
    expect(f.pass('b', 3)).toBe(false);
  });

  it('forgets an agent whose link closed, so its next link is seen at once', () => {
    const f = new SeenFilter(60_000);
    f.pass('a', 0);
    f.forget('a');
    expect(f.size).toBe(0);
    expect(f.pass('a', 10)).toBe(true);
  });

  it('forwards well within the interval the primary refreshes lastSeen at', () => {
    // 100,000 agents heartbeating every 15 s: 6,667 a second before, at most 1,667 now.
    expect(SEEN_FORWARD_EVERY_MS).toBe(LAST_SEEN_EVERY_MS / 5);
    expect(SEEN_FORWARD_EVERY_MS).toBeGreaterThanOrEqual(4 * 15_000);
  });
});
