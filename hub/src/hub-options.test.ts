import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import { HubOptionsError, resolveHubOptions } from './hub-options.js';

describe('resolveHubOptions', () => {
  it('keeps the audit log 90 days and at most 1,000,000 rows by default', () => {
    const r = resolveHubOptions({ dataDir: '/x' });
    expect({ age: r.auditMaxAge, ms: r.auditMaxAgeMs, rows: r.auditMaxRows, clock: r.clock }).toEqual({ age: '90d', ms: 90 * 86_400_000, rows: 1_000_000, clock: systemClock });
    expect(resolveHubOptions({ dataDir: '/x', auditMaxAge: '12h', auditMaxRows: 5000 })).toMatchObject({ auditMaxAgeMs: 12 * 3_600_000, auditMaxRows: 5000 });
  });

  it('refuses an audit age that is not a duration, or too short, and a row count that is not a positive whole number', () => {
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxAge: '30 days' })).toThrow(new HubOptionsError('audit max age "30 days" is not a duration: write a whole number and s, m, h or d, such as --audit-max-age 30d'));
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxAge: '30s' })).toThrow(/audit max age 30s is too short \(at least 1m\)/);
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxRows: 0 })).toThrow(/audit max rows 0 is not a whole number of at least 1 \(--audit-max-rows N\)/);
    expect(() => resolveHubOptions({ dataDir: '/x', auditMaxRows: Number('lots') })).toThrow(HubOptionsError);
  });
});
