import { describe, expect, it } from 'vitest';
import { DialGate } from './dial-gate.js';

describe('DialGate', () => {
  it('runs at most its limit of dials at once and starts the next as one ends', () => {
    const gate = new DialGate(2);
    const started: number[] = [];
    const done: Array<() => void> = [];
    for (let i = 0; i < 5; i++) gate.run((d) => (started.push(i), done.push(d)));
    expect(started).toEqual([0, 1]);
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    done[0]!();
    expect(started).toEqual([0, 1, 2]);
    done[0]!(); // a second call of the same done frees nothing more
    expect(started).toEqual([0, 1, 2]);
    done[1]!();
    done[2]!();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    done[3]!();
    done[4]!();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('drains a long queue of dials that end at once without nesting calls', () => {
    const gate = new DialGate(1);
    let hold: (() => void) | undefined;
    gate.run((d) => (hold = d));
    let ran = 0;
    for (let i = 0; i < 100_000; i++) gate.run((d) => (ran++, d()));
    hold!();
    expect(ran).toBe(100_000);
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('reports the longest wait for a slot and starts afresh after takeMaxWait', () => {
    const gate = new DialGate(1);
    let first: (() => void) | undefined;
    gate.run((d) => (first = d), performance.now());
    gate.run((d) => d(), performance.now() - 250);
    first!();
    expect(gate.takeMaxWait()).toBeGreaterThanOrEqual(250);
    expect(gate.takeMaxWait()).toBe(0);
  });

  it('refuses a limit below 1', () => {
    expect(() => new DialGate(0)).toThrow(/at least 1/);
  });
});
