import type { Cluster, Release } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { digestsInUse } from './in-use.js';

const release = (version: string, digests: string[]): Release => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: version }, spec: { version, artifacts: digests.map((digest) => ({ name: digest, type: 'binary', digest })) } });
const cluster = (version: string): Cluster => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: `c-${version}`, namespace: 'p' }, spec: { version } });

describe('digestsInUse', () => {
  it("holds the artifacts of the Releases of the Clusters' versions, and no others", () => {
    const releases = [release('1.34.4', ['sha256:a', 'sha256:b']), release('1.33.0', ['sha256:c'])];
    expect([...digestsInUse([cluster('v1.34.4')], releases)].sort()).toEqual(['sha256:a', 'sha256:b']);
    expect(digestsInUse([], releases).size).toBe(0);
  });
});
