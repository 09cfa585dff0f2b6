// The OpenAPI document of the admin API, derived from the proto schema so it cannot drift from it.
import { GROUP_VERSION, isFreeFormJson, KINDS, lookupType, schemaRoot } from '@outpost/proto';
import type protobuf from 'protobufjs';
import { queryParameterDocs } from './query-parameters.js';
import { API_PREFIX } from './resource-path.js';

type Schema = Record<string, unknown>;

const SCALARS: Record<string, Schema> = {
  string: { type: 'string' },
  bytes: { type: 'string', format: 'byte' },
  bool: { type: 'boolean' },
  double: { type: 'number' },
  float: { type: 'number' },
};

function fieldSchema(field: protobuf.Field): Schema {
  const t = field.resolvedType;
  if (isFreeFormJson(t)) return { type: 'object', additionalProperties: true };
  const item: Schema = t ? { $ref: `#/components/schemas/${t.name}` } : (SCALARS[field.type] ?? { type: 'integer', format: field.type });
  if ((field as unknown as protobuf.MapField).keyType !== undefined) return { type: 'object', additionalProperties: item };
  return field.repeated ? { type: 'array', items: item } : item;
}

function messageSchemas(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const ns = schemaRoot.lookup('outpost.v1alpha1') as protobuf.Namespace;
  for (const nested of ns.nestedArray) {
    if (!('fieldsArray' in nested)) continue;
    const type = nested as protobuf.Type;
    out[type.name] = {
      type: 'object',
      additionalProperties: false,
      ...(type.comment ? { description: type.comment } : {}),
      properties: Object.fromEntries(type.fieldsArray.map((f) => [f.name, { ...fieldSchema(f), ...(f.comment ? { description: f.comment } : {}) }])),
    };
  }
  return out;
}

export function openApiDocument(version: string): Schema {
  const paths: Record<string, Schema> = {};
  const ok = (ref: string) => ({ '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } } });
  for (const k of KINDS) {
    lookupType(k.kind);
    const base = k.namespaced ? `${API_PREFIX}/namespaces/{project}/${k.plural}` : `${API_PREFIX}/${k.plural}`;
    const params = k.namespaced ? [{ name: 'project', in: 'path', required: true, schema: { type: 'string' } }] : [];
    const named = [...params, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }];
    const body = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${k.kind}` } } } };
    paths[base] = {
      get: { summary: `List or watch ${k.plural}`, parameters: [...params, ...queryParameterDocs('list', 'watch')], responses: { '200': { description: 'OK' } } },
      post: { summary: `Create a ${k.kind}`, parameters: params, requestBody: body, responses: ok(k.kind) },
    };
    paths[`${base}/{name}`] = {
      get: { summary: `Read a ${k.kind}`, parameters: named, responses: ok(k.kind) },
      put: { summary: `Replace a ${k.kind} (409 on a stale metadata.resourceVersion)`, parameters: named, requestBody: body, responses: ok(k.kind) },
      patch: { summary: `Merge-patch a ${k.kind} (RFC 7386)`, parameters: named, requestBody: { required: true, content: { 'application/merge-patch+json': { schema: { type: 'object' } } } }, responses: ok(k.kind) },
      delete: { summary: `Delete a ${k.kind}`, parameters: named, responses: ok(k.kind) },
    };
    paths[`${base}/{name}/status`] = {
      get: { summary: `Read a ${k.kind}'s status`, parameters: named, responses: ok(k.kind) },
      put: { summary: `Replace a ${k.kind}'s status`, parameters: named, requestBody: body, responses: ok(k.kind) },
      patch: { summary: `Merge-patch a ${k.kind}'s status`, parameters: named, requestBody: { required: true, content: { 'application/merge-patch+json': { schema: { type: 'object' } } } }, responses: ok(k.kind) },
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Outpost admin API', version, description: `Kubernetes-shaped API of ${GROUP_VERSION}. Authenticate with "Authorization: Bearer <API token>".` },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: messageSchemas() },
    security: [{ bearer: [] }],
    paths,
  };
}
