import { describe, expect, it } from 'vitest';
import { controlPlaneNamespace, DNS1123_LABEL_MAX, DNS1123_LABEL_RE } from './namespace-name.js';

describe('controlPlaneNamespace', () => {
  it('is cluster-<project>-<name> when that fits', () => {
    expect(controlPlaneNamespace('shop', 'eu-1')).toBe('cluster-shop-eu-1');
    const exact = `cluster-p-${'a'.repeat(DNS1123_LABEL_MAX - 'cluster-p-'.length)}`;
    expect(exact).toHaveLength(63);
    expect(controlPlaneNamespace('p', exact.slice('cluster-p-'.length))).toBe(exact);
  });

  it('shortens a name over 63 characters with a hash, stably, into a valid label', () => {
    const project = 'retail-europe-production';
    const name = 'store-0412-point-of-sale-and-inventory';
    const ns = controlPlaneNamespace(project, name);
    expect(`cluster-${project}-${name}`.length).toBeGreaterThan(63);
    expect(ns.length).toBeLessThanOrEqual(63);
    expect(ns).toMatch(DNS1123_LABEL_RE);
    expect(ns).toMatch(/^cluster-retail-europe-production-store-0412-[a-z-]+-[0-9a-f]{10}$/);
    expect(controlPlaneNamespace(project, name)).toBe(ns);
  });

  it('keeps apart long names that share their first 52 characters', () => {
    const long = 'x'.repeat(60);
    const a = controlPlaneNamespace('p', `${long}-a`);
    const b = controlPlaneNamespace('p', `${long}-b`);
    expect(a).not.toBe(b);
    expect(a.slice(0, 52)).toBe(b.slice(0, 52));
  });

  it('never ends the cut part with a dash, and makes a valid label of odd characters', () => {
    // The cut lands on a dash here: it is dropped rather than doubled before the hash.
    const name = `${'a'.repeat(41)}-${'b'.repeat(30)}`;
    const ns = controlPlaneNamespace('pp', name);
    expect(ns).toMatch(DNS1123_LABEL_RE);
    expect(ns).not.toContain('--');
    const odd = controlPlaneNamespace('P', 'web.front');
    expect(odd).toMatch(DNS1123_LABEL_RE);
    expect(odd).not.toBe(controlPlaneNamespace('p', 'web-front'));
  });
});
