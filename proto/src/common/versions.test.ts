import { describe, expect, it } from 'vitest';
import { normaliseVersion, parseKubeVersion, releaseVersion, versionStepProblem } from './versions.js';

describe('versions', () => {
  it('takes a leading v as the same version, and a Release by spec.version or else its name', () => {
    expect([normaliseVersion('v1.34.4'), normaliseVersion('1.34.4'), normaliseVersion(undefined)]).toEqual(['1.34.4', '1.34.4', '']);
    expect(releaseVersion({ metadata: { name: 'r1' }, spec: { version: 'v1.33.0' } })).toBe('1.33.0');
    expect(releaseVersion({ metadata: { name: '1.32.1' }, spec: {} })).toBe('1.32.1');
  });

  it('parses MAJOR.MINOR.PATCH with an optional v and pre-release, and nothing else', () => {
    expect(parseKubeVersion('v1.34.0-rc.1')).toEqual({ major: 1, minor: 34, patch: 0 });
    expect(parseKubeVersion('1.33.10')).toEqual({ major: 1, minor: 33, patch: 10 });
    expect([parseKubeVersion('1.33'), parseKubeVersion('latest'), parseKubeVersion(''), parseKubeVersion(undefined), parseKubeVersion(' 1.33.0')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('versionStepProblem (the Release rules)', () => {
  it('allows any patch in the same minor, either way, and the next minor', () => {
    for (const to of ['1.33.5', '1.33.0', 'v1.33.9', '1.34.0', 'v1.34.7', '1.34.0-rc.1']) expect(versionStepProblem('1.33.0', to), to).toBeUndefined();
    expect(versionStepProblem('v1.33.5', '1.33.1')).toBeUndefined();
  });

  it('refuses a skipped minor, saying which versions are allowed and what to do', () => {
    expect(versionStepProblem('1.33.0', '1.35.0')).toBe(
      'cannot skip from 1.33.0 to 1.35.0; from 1.33.0 a cluster may move to any 1.33 patch (1.33.x), or the next minor, 1.34 (1.34.x). Upgrade one minor at a time: first to 1.34',
    );
  });

  it('refuses a minor downgrade and a major change', () => {
    expect(versionStepProblem('1.33.0', '1.32.9')).toMatch(/^cannot downgrade from 1\.33\.0 to 1\.32\.9: a minor version never goes back; from 1\.33\.0 a cluster may move to any 1\.33 patch .*Create a new Cluster for 1\.32$/);
    expect(versionStepProblem('v1.33.0', 'v2.0.0')).toMatch(/^cannot change the major version from 1\.33\.0 to 2\.0\.0; .*Create a new Cluster for 2\.x$/);
    expect(versionStepProblem('1.33.0', '2.34.0')).toMatch(/^cannot change the major version/);
  });

  it('leaves versions that do not parse to the format check', () => {
    expect([versionStepProblem('1.33.0', 'latest'), versionStepProblem('old', '1.40.0'), versionStepProblem(undefined, '1.33.0')]).toEqual([undefined, undefined, undefined]);
  });
});
