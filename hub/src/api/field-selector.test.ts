import { describe, expect, it } from 'vitest';
import { matchesFields, parseFieldSelector } from './field-selector.js';

const o = (name: string, namespace = '') => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace } });

describe('fieldSelector', () => {
  it('selects on metadata.name and metadata.namespace with =, == and !=', () => {
    const sel = parseFieldSelector('metadata.name=pos, metadata.namespace!=other');
    expect([matchesFields(sel, o('pos', 'demo')), matchesFields(sel, o('pos', 'other')), matchesFields(sel, o('till', 'demo'))]).toEqual([true, false, false]);
    expect(matchesFields(parseFieldSelector('metadata.name==pos'), o('pos'))).toBe(true);
    expect(matchesFields(undefined, o('any'))).toBe(true);
  });

  it('refuses a field it cannot select on, and a term that is not one, by name', () => {
    expect(() => parseFieldSelector('spec.version=1.33.0')).toThrow('fieldSelector field "spec.version" is not supported: select on metadata.name or metadata.namespace');
    expect(() => parseFieldSelector('metadata.name')).toThrow('fieldSelector term "metadata.name" is not field=value');
  });
});
