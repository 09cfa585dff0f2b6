// Audit retention by age and by size, on a ManualClock: no sleeps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { AuditRetention } from './audit-retention.js';
import { Store } from './store.js';

const DAY = 86_400_000;
const ctx = { actor: 'test' };
const site = (name: string) => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name }, spec: {} });

describe('AuditRetention', () => {
  let dir: string;
  let store: Store;
  let clock: ManualClock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-audit-'));
    clock = new ManualClock('2026-03-01T00:00:00Z');
    store = new Store(join(dir, 'hub.db'), { clock });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prunes rows older than the maximum age, by the clock', () => {
    for (let day = 0; day < 10; day++) {
      store.create(site(`s${day}`), ctx);
      clock.advance(DAY);
    }
    // Now day 10; rows of days 0-9. A 7-day limit keeps days 3-9 (day 3 is exactly 7 days old).
    const retention = new AuditRetention(store, { maxAgeMs: 7 * DAY, maxRows: 1000, clock });
    expect(retention.pruneNow()).toBe(3);
    expect(store.auditCount()).toBe(7);
    expect(retention.pruneNow()).toBe(0);
    clock.advance(DAY);
    expect(retention.pruneNow()).toBe(1);
    // The objects and their revisions are untouched: only the log of who did what is pruned.
    expect(store.list('Site')).toHaveLength(10);
    expect(store.revision()).toBe(10);
  });

  it('keeps at most the newest maximum rows', () => {
    for (let i = 0; i < 25; i++) store.create(site(`s${i}`), ctx);
    const retention = new AuditRetention(store, { maxAgeMs: 90 * DAY, maxRows: 10, clock });
    expect(retention.pruneNow()).toBe(15);
    expect(store.auditCount()).toBe(10);
    store.create(site('one-more'), ctx);
    expect(retention.pruneNow()).toBe(1);
    expect(store.auditCount()).toBe(10);
  });

  it('prunes once when started, then periodically', () => {
    for (let i = 0; i < 5; i++) store.create(site(`s${i}`), ctx);
    const retention = new AuditRetention(store, { maxAgeMs: 90 * DAY, maxRows: 2, clock });
    retention.start();
    try {
      expect(store.auditCount()).toBe(2);
    } finally {
      retention.stop();
    }
  });

  it('prunes as soon as a flood of writes outgrows the maximum, not at the next ten-minute pass', async () => {
    const retention = new AuditRetention(store, { maxAgeMs: 90 * DAY, maxRows: 100, clock, checkEveryMs: 10 });
    retention.start();
    try {
      // A slack of 100 rows: a trickle of writes past the maximum is no pass.
      for (let i = 0; i < 150; i++) store.create(site(`s${i}`), ctx);
      expect(retention.overgrown()).toBe(false);
      for (let i = 150; i < 1000; i++) store.create(site(`s${i}`), ctx);
      expect(retention.overgrown()).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(store.auditCount()).toBe(100);
      expect(retention.overgrown()).toBe(false);
    } finally {
      retention.stop();
    }
  });
});
