import { describe, expect, it } from 'vitest';
import { ConnectionLimits } from './connection-limits.js';

const limits = (o: Partial<ConstructorParameters<typeof ConnectionLimits>[0]> = {}) =>
  new ConnectionLimits<string>({ maxConnections: 10, maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 2, handshakeTimeoutMs: 10_000, evictSilentAfterMs: 1000, ...o });

describe('ConnectionLimits', () => {
  it('refuses a third unauthenticated connection from one address, and lets other addresses in', () => {
    const l = limits();
    expect(l.opened('a1', 'A', 0)).toEqual({ admitted: true });
    expect(l.opened('a2', 'A', 0)).toEqual({ admitted: true });
    expect(l.opened('a3', 'A', 0)).toEqual({ admitted: false, reason: 'per-address' });
    expect(l.opened('b1', 'B', 0)).toEqual({ admitted: true });
    // An authenticated connection no longer counts against its address.
    l.authenticate('a1');
    expect(l.opened('a3', 'A', 0)).toEqual({ admitted: true });
    expect({ total: l.total, unauthenticated: l.unauthenticated, authenticated: l.authenticatedCount }).toEqual({ total: 4, unauthenticated: 3, authenticated: 1 });
  });

  it('keeps the rest of the budget for authenticated connections', () => {
    const l = limits({ maxUnauthenticatedPerAddress: 100 });
    for (let i = 0; i < 4; i++) expect(l.opened(`x${i}`, 'X', 0).admitted).toBe(true);
    // Full of unauthenticated connections younger than the eviction age: the newcomer is refused.
    expect(l.opened('late', 'Y', 500)).toEqual({ admitted: false, reason: 'unauthenticated' });
    // Authenticated ones leave the unauthenticated budget, up to the total.
    for (let i = 0; i < 4; i++) l.authenticate(`x${i}`);
    for (let i = 0; i < 6; i++) {
      expect(l.opened(`y${i}`, 'Y', 0).admitted).toBe(true);
      l.authenticate(`y${i}`);
    }
    expect(l.total).toBe(10);
    expect(l.opened('z', 'Z', 5000)).toEqual({ admitted: false, reason: 'total' });
    l.closed('y0');
    expect(l.opened('z', 'Z', 5000)).toEqual({ admitted: true });
  });

  it("gives a silent connection's place to a newcomer once it has been silent for the eviction age", () => {
    const l = limits({ maxUnauthenticatedPerAddress: 100 });
    l.opened('old', 'X', 0);
    l.opened('talking', 'X', 0);
    l.spoke('talking');
    l.opened('x2', 'X', 800);
    l.opened('x3', 'X', 900);
    expect(l.opened('n1', 'Y', 999)).toEqual({ admitted: false, reason: 'unauthenticated' });
    // 'talking' is older but has made a request: the oldest silent one goes.
    expect(l.opened('n1', 'Y', 1000)).toEqual({ admitted: true, evicted: 'old' });
    expect(l.opened('n2', 'Y', 1500)).toEqual({ admitted: false, reason: 'unauthenticated' });
    expect(l.opened('n2', 'Y', 1800)).toEqual({ admitted: true, evicted: 'x2' });
    expect(l.unauthenticated).toBe(4);
    // The evicted connection's close, when it comes, changes nothing.
    l.closed('old');
    expect(l.unauthenticated).toBe(4);
  });

  it('expires connections that sent no request within the handshake timeout, oldest first', () => {
    const l = limits({ maxUnauthenticated: 100, maxUnauthenticatedPerAddress: 100 });
    l.opened('a', 'X', 0);
    l.opened('b', 'X', 100);
    l.opened('c', 'X', 200);
    l.spoke('b');
    l.opened('d', 'X', 300);
    l.authenticate('d');
    expect(l.expired(9_999)).toEqual([]);
    expect(l.expired(10_150)).toEqual(['a']);
    expect(l.expired(20_000)).toEqual(['c']);
    expect({ unauthenticated: l.unauthenticated, authenticated: l.authenticatedCount }).toEqual({ unauthenticated: 1, authenticated: 1 });
    // Expired connections have left their address's count.
    expect(l.opened('e', 'X', 20_000).admitted).toBe(true);
    l.closed('a');
    l.closed('b');
    l.closed('d');
    expect(l.total).toBe(1);
  });
});
