import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifests } from './manifests.js';

const names = (text: string): string[] => parseManifests(text, 'test.yaml').map((o) => `${o.kind}/${o.metadata.name}`);

/** The ManifestError parseManifests throws for `text` (fails the test if it throws nothing). */
function errorOf(text: string, source = 'test.yaml'): ManifestError {
  try {
    parseManifests(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return err as ManifestError;
  }
  throw new Error('expected a ManifestError');
}

describe('parseManifests', () => {
  // Found by the fuzzer (test/bench/fuzz): the yaml library throws ReferenceError from toJS().
  it('refuses an alias to no anchor, and an alias bomb, as invalid YAML naming the document', () => {
    expect(errorOf('kind: Site\nmetadata: {name: a}\n---\n<<: *a\n').message).toMatch(/^test\.yaml, document 2: invalid YAML: Unresolved alias/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`), 'kind: Site', 'metadata: {name: x}'].join('\n');
    expect(errorOf(bomb).message).toMatch(/^test\.yaml, document 1: invalid YAML: Excessive alias count/);
  });

  it('reads multi-document YAML and skips empty documents', () => {
    const text = [
      '---',
      'apiVersion: outpost.dev/v1alpha1',
      'kind: Project',
      'metadata:',
      '  name: demo',
      '---',
      '# only a comment',
      '---',
      '---',
      'apiVersion: outpost.dev/v1alpha1',
      'kind: Cluster',
      'metadata: {name: pos, namespace: demo, labels: {a: b}}',
      'spec:',
      '  version: "1.33.0"',
      '  controlPlane: {mode: kubeadm, replicas: 1}',
      '---',
      '',
    ].join('\n');
    const objs = parseManifests(text, 'demo.yaml');
    expect(objs).toHaveLength(2);
    expect(objs[0]).toEqual({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Project', metadata: { name: 'demo' } });
    expect(objs[1]).toEqual({
      apiVersion: 'outpost.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'pos', namespace: 'demo', labels: { a: 'b' } },
      spec: { version: '1.33.0', controlPlane: { mode: 'kubeadm', replicas: 1 } },
    });
  });

  it('returns nothing for an empty file', () => {
    expect(parseManifests('', 'empty.yaml')).toEqual([]);
    expect(parseManifests('---\n---\n', 'empty.yaml')).toEqual([]);
  });

  it('reads a JSON document', () => {
    const json = JSON.stringify({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'store-0412' }, spec: { location: 'Hamburg' } }, null, 2);
    expect(parseManifests(json, 'site.json')).toEqual([{ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'store-0412' }, spec: { location: 'Hamburg' } }]);
  });

  it('unpacks a List into its items, in order', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - {apiVersion: outpost.dev/v1alpha1, kind: Site, metadata: {name: s1}}',
      '  - {apiVersion: outpost.dev/v1alpha1, kind: Site, metadata: {name: s2}}',
      '---',
      'kind: ClusterList',
      'items:',
      '  - {kind: Cluster, metadata: {name: c1, namespace: demo}}',
      '---',
      'kind: Project',
      'metadata: {name: demo}',
    ].join('\n');
    expect(names(text)).toEqual(['Site/s1', 'Site/s2', 'Cluster/c1', 'Project/demo']);
  });

  it('names the document with invalid YAML', () => {
    const text = ['kind: Project', 'metadata: {name: demo}', '---', 'kind: Site', 'metadata:', '  name: [unclosed'].join('\n');
    const err = errorOf(text, 'bad.yaml');
    expect(err.name).toBe('ManifestError');
    expect(err.message).toMatch(/^bad\.yaml, document 2: invalid YAML/);
  });

  it('refuses a document without kind, naming it', () => {
    const text = ['kind: Project', 'metadata: {name: demo}', '---', 'apiVersion: outpost.dev/v1alpha1', 'metadata: {name: x}'].join('\n');
    expect(errorOf(text).message).toBe('test.yaml, document 2: no "kind"');
  });

  it('refuses a document without metadata, and one that is not an object', () => {
    expect(errorOf('kind: Site\nspec: {}\n').message).toBe('test.yaml, document 1 (Site): no "metadata"');
    expect(errorOf('- a\n- b\n').message).toMatch(/document 1: expected a resource object, got a list/);
    expect(errorOf('just a string').message).toMatch(/document 1: expected a resource object, got string/);
    expect(errorOf('kind: List\nitems: [42]\n').message).toMatch(/document 1: expected a resource object, got number/);
  });
});
