import { describe, expect, it } from 'vitest';
import { keyFromString, keyOf, keyOfRef, keyString } from './object-key.js';

describe('object keys', () => {
  it('keys a project-scoped and a cluster-scoped object', () => {
    const cluster = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' } };
    const site = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'store-0412' } };
    expect(keyOf(cluster)).toEqual({ kind: 'Cluster', namespace: 'demo', name: 'pos' });
    expect(keyOf(site)).toEqual({ kind: 'Site', namespace: '', name: 'store-0412' });
    expect(keyString(keyOf(cluster))).toBe('Cluster/demo/pos');
    expect(keyString(keyOf(site))).toBe('Site//store-0412');
    expect(keyFromString('Cluster/demo/pos')).toEqual(keyOf(cluster));
    expect(keyFromString('Site//store-0412')).toEqual(keyOf(site));
    expect(() => keyFromString('Site/store-0412')).toThrow('"Site/store-0412" is not an object key');
  });

  it('reads a wire ObjectRef, absent fields empty, the uid dropped', () => {
    expect(keyOfRef({ kind: 'Cluster', namespace: 'demo', name: 'pos', uid: 'u-1' })).toEqual({ kind: 'Cluster', namespace: 'demo', name: 'pos' });
    expect(keyOfRef({ kind: 'Site', namespace: null, name: 's' })).toEqual({ kind: 'Site', namespace: '', name: 's' });
    expect(keyOfRef(undefined)).toEqual({ kind: '', namespace: '', name: '' });
  });
});
