import { LoopStall } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { SilenceWatch } from './silence-watch.js';

// A manual clock: the loop is sampled every 100 ms; lateness up to 50 ms is ordinary work.
const setup = () => {
  const t = { now: 1000 };
  const stall = new LoopStall(100, 50, 60_000);
  stall.tick(t.now);
  /** The loop keeps up: a sample on time every 100 ms until `until`. */
  const run = (until: number) => {
    while (t.now + 100 <= until) stall.tick((t.now += 100));
  };
  /** The process gets no CPU for `ms`: no sample, then one late. */
  const freeze = (ms: number) => {
    t.now += ms;
  };
  return { t, stall, run, freeze, watch: new SilenceWatch(stall, 3000) };
};

describe('SilenceWatch', () => {
  it('calls a hub silent after the limit when the loop kept up', () => {
    const { t, run, watch } = setup();
    watch.heard(t.now);
    run(3900);
    expect(watch.remaining(t.now)).toBe(100);
    run(4000);
    expect(watch.remaining(t.now)).toBe(0);
  });

  it('adds the time its own loop was stalled to the deadline, before and after the late sample', () => {
    const { t, stall, run, freeze, watch } = setup();
    watch.heard(t.now);
    run(1500);
    freeze(5000);
    // 0.5 s heard-able before the stall, 4.9 s of it overdue (the sample was due at 1,600): 2.4 s remain,
    // whether or not the late sample has run yet (timers run before the socket reads after a stall).
    expect(watch.remaining(t.now)).toBe(2400);
    stall.tick(t.now);
    expect(watch.remaining(t.now)).toBe(2400);
    // The frame that waited in the socket buffer through the stall is heard now.
    watch.heard(t.now);
    expect(watch.remaining(t.now)).toBe(3000);
  });

  it('still calls a dead hub silent while its own loop lags all the time', () => {
    const { t, stall, watch } = setup();
    watch.heard(t.now);
    // Every sample 100 ms late (a busy agent): half the time counts, so silence comes after ~6 s, not never.
    while (watch.remaining(t.now) > 0 && t.now < 60_000) stall.tick((t.now += 200));
    expect(t.now - 1000).toBeGreaterThanOrEqual(6000);
    expect(t.now - 1000).toBeLessThanOrEqual(6200);
  });

  it("gives a freshly opened link a share of the limit more, and follows the Welcome's limit", () => {
    const { t, run, watch } = setup();
    watch.opened(t.now, 0.5);
    expect(watch.remaining(t.now)).toBe(4500);
    watch.setLimit(6000);
    expect(watch.remaining(t.now)).toBe(9000);
    run(3000);
    // Heard 2 s after opening: the grace (9 s from opening) still holds.
    watch.heard(t.now);
    expect(watch.remaining(t.now)).toBe(7000);
    run(9000);
    watch.heard(t.now);
    expect(watch.remaining(t.now)).toBe(6000);
  });
});
