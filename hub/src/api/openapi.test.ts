import { createHash } from 'node:crypto';
import { KINDS } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { openApiDocuments, openApiV2Document, openApiV3Document } from './openapi.js';

type Json = any;
const API = '/apis/outpost.dev/v1alpha1';

/** Every `$ref` in a document. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('the OpenAPI v3 document', () => {
  const doc: Json = openApiV3Document('1.2.3');

  it('marks every kind\'s schema with its group, version and kind, as kubectl explain finds it', () => {
    for (const k of KINDS) {
      expect(doc.components.schemas[k.kind]['x-kubernetes-group-version-kind']).toEqual([{ group: 'outpost.dev', version: 'v1alpha1', kind: k.kind }]);
      expect(doc.components.schemas[`${k.kind}List`]['x-kubernetes-group-version-kind']).toEqual([{ group: 'outpost.dev', version: 'v1alpha1', kind: `${k.kind}List` }]);
    }
  });

  it('declares fieldValidation on every kind\'s PATCH, which is what kubectl checks before leaving validation to the server', () => {
    for (const k of KINDS) {
      const path = `${API}${k.namespaced ? '/namespaces/{namespace}' : ''}/${k.plural}/{name}`;
      const patch = doc.paths[path].patch;
      expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'outpost.dev', version: 'v1alpha1', kind: k.kind });
      expect(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query')).toBe(true);
      expect(doc.paths[path].get.parameters.some((p: Json) => p.name === 'fieldValidation')).toBe(false);
    }
    expect(Object.keys(doc.paths[`${API}/clusters`])).toEqual(['get']);
  });

  it('refers only to schemas it has, and carries the proto\'s comments and integer formats', () => {
    for (const r of refs(doc)) expect(doc.components.schemas[r.replace('#/components/schemas/', '')], r).toBeDefined();
    const spec = doc.components.schemas.ClusterSpec.properties;
    expect(spec.controlPlane).toEqual({ allOf: [{ $ref: '#/components/schemas/ControlPlane' }], description: 'Where and how the control plane runs: hosted on a seed, or kubeadm on site hosts.' });
    expect(spec.network).toEqual({ $ref: '#/components/schemas/ClusterNetwork' });
    expect(doc.components.schemas.ControlPlane.properties.replicas).toEqual({ type: 'integer', format: 'int32', description: '1 or 3; 0 or unset means 1.' });
    expect(doc.components.schemas.ControlPlane.properties.hostSelector).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(doc.components.schemas.ObjectMeta.properties.generation).toMatchObject({ type: 'integer', format: 'int64' });
    expect(doc.components.schemas.Cluster.description).toMatch(/^A user cluster/);
    // Wire messages are not part of the admin API.
    expect(doc.components.schemas.Envelope).toBeUndefined();
  });
});

describe('the OpenAPI v2 document', () => {
  it('is the same API in Swagger 2.0, its references in definitions', () => {
    const doc: Json = openApiV2Document('1.2.3');
    expect(doc.swagger).toBe('2.0');
    for (const r of refs(doc)) expect(doc.definitions[r.replace('#/definitions/', '')], r).toBeDefined();
    const post = doc.paths[`${API}/namespaces/{namespace}/clusters`].post;
    expect(post.parameters).toContainEqual({ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/Cluster' } });
    expect(post.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query', type: 'string' }));
    // v2 readers take a description beside a $ref (kube-openapi's v2 parser does not follow allOf).
    expect(doc.definitions.ClusterSpec.properties.controlPlane).toEqual({ $ref: '#/definitions/ControlPlane', description: 'Where and how the control plane runs: hosted on a seed, or kubeadm on site hosts.' });
  });
});

describe('openApiDocuments', () => {
  it('points /openapi/v3 at the group version\'s document by the hash of its content', () => {
    const docs = openApiDocuments('1.2.3');
    const hash = createHash('sha512').update(docs.v3.body).digest('hex').toUpperCase();
    expect(JSON.parse(docs.v3.index)).toEqual({ paths: { 'apis/outpost.dev/v1alpha1': { serverRelativeURL: `/openapi/v3/apis/outpost.dev/v1alpha1?hash=${hash}` } } });
    expect(openApiDocuments('1.2.4').v3.hash).not.toBe(hash);
  });
});
