import { describe, expect, it } from 'vitest';
import { AcceptGate } from './accept-gate.js';

describe('AcceptGate', () => {
  it('stops accepting at the high-water mark and accepts again only at the low-water mark', () => {
    const gate = new AcceptGate(3, 1);
    expect([gate.opened(), gate.opened()]).toEqual([undefined, undefined]);
    expect(gate.opened()).toBe('stop-accepting');
    // Connections already accepted (from the shared backlog) still count, and say nothing twice.
    expect(gate.opened()).toBeUndefined();
    expect(gate.connections).toBe(4);
    expect([gate.closed(), gate.closed()]).toEqual([undefined, undefined]);
    expect(gate.isAccepting).toBe(false);
    expect(gate.closed()).toBe('accept-again');
    expect(gate.isAccepting).toBe(true);
    expect(gate.closed()).toBeUndefined();
    expect(gate.closed()).toBeUndefined();
    expect(gate.connections).toBe(0);
  });

  it('refuses marks that would flap or never reopen', () => {
    expect(() => new AcceptGate(10, 10)).toThrow(/lowWater/);
    expect(() => new AcceptGate(10, -1)).toThrow(/lowWater/);
  });
});
