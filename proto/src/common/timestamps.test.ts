import { describe, expect, it } from 'vitest';
import { parseRfc3339, rfc3339 } from './timestamps.js';

describe('rfc3339', () => {
  it('writes UTC at second precision', () => {
    expect(rfc3339(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678)))).toBe('2025-01-02T03:04:05Z');
  });
});

describe('parseRfc3339', () => {
  it('reads Z, offsets and fractions', () => {
    expect(parseRfc3339('2025-01-02T03:04:05Z')?.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(parseRfc3339('2025-01-02T05:04:05.25+02:00')?.toISOString()).toBe('2025-01-02T03:04:05.250Z');
    expect(parseRfc3339('2025-01-01T20:00:00-08:30')?.toISOString()).toBe('2025-01-02T04:30:00.000Z');
    expect(parseRfc3339('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('refuses what Date.parse would bend into another day', () => {
    for (const bad of ['2025-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2025-01-01T24:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01T00:00:60Z',
      '2025-01-01 00:00:00Z', '2025-01-01T00:00:00', '2025-01-01T00:00:00+24:00', 'yesterday', '']) {
      expect(parseRfc3339(bad), bad).toBeUndefined();
    }
  });
});
