import { describe, expect, it } from 'vitest';
import { MAX_DURATION_DAYS, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads whole numbers of s, m, h and d', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('1w')).toBeUndefined();
  });
  it('refuses a duration longer than a hundred years, which a Date past now may not hold', () => {
    expect(parseDuration(`${MAX_DURATION_DAYS}d`)).toBe(MAX_DURATION_DAYS * 86_400_000);
    expect(parseDuration(`${MAX_DURATION_DAYS + 1}d`)).toBeUndefined();
    expect(parseDuration('99999999999d')).toBeUndefined();
    expect(parseDuration(`${'9'.repeat(400)}s`)).toBeUndefined();
  });
});
