import { describe, expect, it } from 'vitest';
import { normaliseVersion, releaseVersion } from './versions.js';

describe('versions', () => {
  it('takes a leading v as the same version, and a Release by spec.version or else its name', () => {
    expect([normaliseVersion('v1.34.4'), normaliseVersion('1.34.4'), normaliseVersion(undefined)]).toEqual(['1.34.4', '1.34.4', '']);
    expect(releaseVersion({ metadata: { name: 'r1' }, spec: { version: 'v1.33.0' } })).toBe('1.33.0');
    expect(releaseVersion({ metadata: { name: '1.32.1' }, spec: {} })).toBe('1.32.1');
  });
});
