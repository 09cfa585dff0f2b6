import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoadShedder } from './load-shedder.js';

describe('LoadShedder', () => {
  afterEach(() => vi.useRealTimers());

  it('refuses connections only while the loop lags past the limit', () => {
    vi.useFakeTimers();
    let t = 0;
    const shedder = new LoadShedder({ maxLagMs: 100, sampleEveryMs: 20 }, () => t);
    const socket = { destroy: vi.fn() };
    t = 20;
    vi.advanceTimersByTime(20);
    expect(shedder.refuse(socket)).toBe(false);
    // the loop was blocked: the next sample comes 300 ms late
    t = 340;
    vi.advanceTimersByTime(20);
    expect(shedder.refuse(socket)).toBe(true);
    expect(socket.destroy).toHaveBeenCalledTimes(1);
    t = 360;
    vi.advanceTimersByTime(20);
    expect(shedder.refuse(socket)).toBe(false);
    expect(shedder.shed).toBe(1);
    shedder.stop();
  });
});
