import { describe, expect, it } from 'vitest';
import { SeenFilter } from './seen-filter.js';
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

  it("passes at most one of an agent's heartbeats a minute by default, out of four", () => {
    // Heartbeats every 15 s for 5 minutes (the primary's lastSeen interval): 20 seen, 5 forwarded.
    const f = new SeenFilter();
    let forwarded = 0;
    for (let t = 0; t < LAST_SEEN_EVERY_MS; t += 15_000) if (f.pass('a', t)) forwarded++;
    expect(forwarded).toBe(5);
  });
});
