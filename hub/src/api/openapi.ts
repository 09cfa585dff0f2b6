// The OpenAPI documents of the admin API, derived from the proto schema (its fields and comments) so they
// cannot drift from it. Shaped as kube-apiserver's, because kubectl reads them:
// - /openapi/v3 lists one document per group version, each at a URL carrying its hash;
// - the group version's document (OpenAPI 3.0) has `x-kubernetes-group-version-kind` on every kind's
//   schema (kubectl explain finds the kind by it) and on every operation (kubectl apply looks for the
//   `fieldValidation` parameter on the kind's PATCH to know the hub validates fields itself, and then
//   sends fieldValidation=Strict, or Ignore with --validate=false, instead of validating on the client);
// - /openapi/v2 is the same in Swagger 2.0, in JSON or in gnostic's protobuf, for older clients.
import { createHash } from 'node:crypto';
import { API_GROUP, API_VERSION, GROUP_VERSION, isFreeFormJson, KINDS, lookupType, type KindInfo } from '@outpost/proto';
import type protobuf from 'protobufjs';
import { openApiV2Protobuf } from './openapi-v2-protobuf.js';
import { KUBECONFIG_SUBRESOURCE } from './cluster-kubeconfig.js';
import { API_PREFIX } from './resource-path.js';

type Schema = Record<string, unknown>;

const SCALARS: Record<string, Schema> = {
  string: { type: 'string' },
  bytes: { type: 'string', format: 'byte' },
  bool: { type: 'boolean' },
  double: { type: 'number', format: 'double' },
  float: { type: 'number', format: 'float' },
};
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** The query parameters of writes, as kube-apiserver declares them. */
const WRITE_PARAMS: Schema[] = [
  { name: 'dryRun', in: 'query', description: 'All: check everything (shape, admission, conflicts) and write nothing.', schema: { type: 'string', enum: ['All'] } },
  {
    name: 'fieldValidation',
    in: 'query',
    description: 'Strict (the default): an unknown field is refused, named. Warn: it is dropped and named in a Warning header. Ignore: it is dropped.',
    schema: { type: 'string', enum: ['Strict', 'Warn', 'Ignore'] },
  },
  { name: 'fieldManager', in: 'query', description: 'Who makes the change, as recorded in metadata.managedFields.', schema: { type: 'string' } },
];

const gvk = (kind: string) => ({ group: API_GROUP, version: API_VERSION, kind });

/** Where a schema of the document is referred to: `#/components/schemas/` in v3, `#/definitions/` in v2. */
type RefBase = '#/components/schemas/' | '#/definitions/';

function fieldSchema(field: protobuf.Field, refs: RefBase): Schema {
  const resolved = field.resolvedType;
  // google.protobuf.Struct (managedFields' fieldsV1): any JSON object.
  if (isFreeFormJson(resolved)) return { type: 'object', additionalProperties: true, ...(field.comment ? { description: field.comment } : {}) };
  // An enum is its names in JSON (proto's validator takes them), not a schema of its own.
  const t = resolved && 'fieldsArray' in resolved ? resolved : undefined;
  const scalar = resolved && 'values' in resolved ? { type: 'string', enum: Object.keys(resolved.values) } : INT32.has(field.type) ? { type: 'integer', format: 'int32' } : (SCALARS[field.type] ?? { type: 'integer', format: 'int64' });
  const item: Schema = t ? { $ref: `${refs}${t.name}` } : scalar;
  const description = field.comment ? { description: field.comment } : {};
  if ((field as unknown as protobuf.MapField).keyType !== undefined) return { type: 'object', additionalProperties: item, ...description };
  if (field.repeated) return { type: 'array', items: item, ...description };
  // A $ref's siblings are ignored in OpenAPI 3.0, so a described reference is an allOf of one there, as
  // Kubernetes writes it; its v2 document keeps the description beside the $ref, which v2 readers take.
  if (t && field.comment && refs === '#/components/schemas/') return { allOf: [item], ...description };
  return { ...item, ...description };
}

/** Messages that subresources carry rather than stored kinds. */
const SUBRESOURCE_MESSAGES = ['AdminKubeconfigRequest', 'AdminKubeconfig'] as const;

/** The schemas of every message a resource kind reaches, and each kind's list. */
function schemas(refs: RefBase): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const visit = (type: protobuf.Type): void => {
    if (out[type.name]) return;
    out[type.name] = {
      type: 'object',
      additionalProperties: false,
      ...(type.comment ? { description: type.comment } : {}),
      properties: Object.fromEntries(type.fieldsArray.map((f) => [f.name, fieldSchema(f, refs)])),
    };
    // After its own entry is in place, so a message that refers to itself ends the walk.
    for (const f of type.fieldsArray) if (f.resolvedType && 'fieldsArray' in f.resolvedType && !isFreeFormJson(f.resolvedType)) visit(f.resolvedType as protobuf.Type);
  };
  for (const k of KINDS) {
    visit(lookupType(k.kind));
    const own = out[k.kind]!;
    const properties = own.properties as Record<string, Schema>;
    properties.apiVersion = { type: 'string', description: `The schema version of this object: ${GROUP_VERSION}.` };
    properties.kind = { type: 'string', description: `The kind of this object: ${k.kind}.` };
    out[k.kind] = { ...own, 'x-kubernetes-group-version-kind': [gvk(k.kind)] };
    out[`${k.kind}List`] = {
      type: 'object',
      description: `A list of ${k.plural}.`,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object', properties: { resourceVersion: { type: 'string', description: 'The hub revision the list was read at; watch from it.' } } },
        items: { type: 'array', items: { $ref: `${refs}${k.kind}` } },
      },
      required: ['items'],
      'x-kubernetes-group-version-kind': [gvk(`${k.kind}List`)],
    };
  }
  // The messages of the kubeconfig subresource: not kinds, so without a group-version-kind of their own.
  for (const name of SUBRESOURCE_MESSAGES) visit(lookupType(name));
  return out;
}

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  action: string;
  summary: string;
  /** The schema the request carries (post, put, patch). */
  body?: { media: string; ref?: string };
  writes?: boolean;
  query?: Schema[];
  /** The schema of the answer. */
  answer: string;
  /** The answer's status code: 200 unless said. */
  code?: '201';
  /** The operationId, where the kind's rule does not make it (a subresource). */
  id?: string;
}

const WATCH_QUERY: Schema[] = [
  { name: 'watch', in: 'query', schema: { type: 'boolean' } },
  { name: 'resourceVersion', in: 'query', schema: { type: 'string' } },
  { name: 'labelSelector', in: 'query', schema: { type: 'string' } },
  { name: 'fieldSelector', in: 'query', schema: { type: 'string' } },
  { name: 'allowWatchBookmarks', in: 'query', schema: { type: 'boolean' } },
  { name: 'timeoutSeconds', in: 'query', schema: { type: 'integer' } },
  // Paging (query-parameters.ts has every verb's parameters).
  { name: 'limit', in: 'query', schema: { type: 'integer' } },
  { name: 'continue', in: 'query', schema: { type: 'string' } },
  { name: 'resourceVersionMatch', in: 'query', schema: { type: 'string', enum: ['NotOlderThan', 'Exact'] } },
];
const MERGE_PATCH = 'application/merge-patch+json';

/** The paths of one kind: its collection (and, for a project-scoped kind, the list across projects), an object, its status. */
function kindPaths(k: KindInfo): Array<{ path: string; named: boolean; inProject: boolean; ops: Operation[] }> {
  const collection = `${API_PREFIX}${k.namespaced ? '/namespaces/{namespace}' : ''}/${k.plural}`;
  const list: Operation = { method: 'get', action: 'list', summary: `List or watch ${k.plural}`, query: WATCH_QUERY, answer: `${k.kind}List` };
  const objectOps = (what: string): Operation[] => [
    { method: 'get', action: 'get', summary: `Read ${what}`, answer: k.kind },
    { method: 'put', action: 'put', summary: `Replace ${what} (409 on a stale metadata.resourceVersion)`, body: { media: 'application/json', ref: k.kind }, writes: true, answer: k.kind },
    { method: 'patch', action: 'patch', summary: `Merge-patch ${what} (RFC 7386)`, body: { media: MERGE_PATCH }, writes: true, answer: k.kind },
  ];
  const paths = [
    { path: collection, named: false, inProject: k.namespaced, ops: [list, { method: 'post', action: 'post', summary: `Create a ${k.kind}`, body: { media: 'application/json', ref: k.kind }, writes: true, answer: k.kind } satisfies Operation] },
    { path: `${collection}/{name}`, named: true, inProject: k.namespaced, ops: [...objectOps(`a ${k.kind}`), { method: 'delete', action: 'delete', summary: `Delete a ${k.kind}`, writes: true, answer: k.kind } satisfies Operation] },
    { path: `${collection}/{name}/status`, named: true, inProject: k.namespaced, ops: objectOps(`a ${k.kind}'s status`) },
  ];
  if (k.namespaced) paths.push({ path: `${API_PREFIX}/${k.plural}`, named: false, inProject: false, ops: [{ ...list, summary: `List or watch ${k.plural} of every project` }] });
  if (k.kind === 'Cluster') {
    const summary = 'Sign an admin kubeconfig for this request (admins, project owners and editors; audited)';
    paths.push({ path: `${collection}/{name}/${KUBECONFIG_SUBRESOURCE}`, named: true, inProject: true, ops: [{ method: 'post', action: 'post', id: 'createClusterKubeconfig', summary, body: { media: 'application/json', ref: 'AdminKubeconfigRequest' }, code: '201', answer: 'AdminKubeconfig' }] });
  }
  return paths;
}

function pathParams(named: boolean, inProject: boolean): Schema[] {
  return [
    ...(inProject ? [{ name: 'namespace', in: 'path', required: true, description: 'The project.', schema: { type: 'string' } }] : []),
    ...(named ? [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ];
}

const operationId = (op: Operation, k: KindInfo, path: string): string =>
  op.id ??
  `${op.action}${path.endsWith('/status') ? 'Status' : ''}${!path.includes('{namespace}') && k.namespaced ? 'AllProjects' : ''}${k.kind}`;

/** The OpenAPI 3.0 document of outpost.dev/v1alpha1, as /openapi/v3/apis/outpost.dev/v1alpha1 serves it. */
export function openApiV3Document(version: string): Schema {
  const paths: Record<string, Schema> = {};
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  for (const k of KINDS) {
    for (const { path, named, inProject, ops } of kindPaths(k)) {
      paths[path] = Object.fromEntries(
        ops.map((op) => [
          op.method,
          {
            operationId: operationId(op, k, path),
            summary: op.summary,
            parameters: [...pathParams(named, inProject), ...(op.query ?? []), ...(op.writes ? WRITE_PARAMS : [])],
            ...(op.body ? { requestBody: { required: true, content: { [op.body.media]: { schema: op.body.ref ? ref(op.body.ref) : { type: 'object' } } } } } : {}),
            responses: { [op.code ?? '200']: { description: op.code ? 'Created' : 'OK', content: { 'application/json': { schema: ref(op.answer) } } } },
            'x-kubernetes-action': op.action,
            'x-kubernetes-group-version-kind': gvk(k.kind),
          },
        ]),
      );
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Outpost admin API', version, description: `Kubernetes-shaped API of ${GROUP_VERSION}. Authenticate with "Authorization: Bearer <API token>".` },
    components: { securitySchemes: { BearerToken: { type: 'http', scheme: 'bearer' } }, schemas: schemas('#/components/schemas/') },
    security: [{ BearerToken: [] }],
    paths,
  };
}

/** The same API in Swagger 2.0, as /openapi/v2 serves it in JSON. */
export function openApiV2Document(version: string): Schema {
  const paths: Record<string, Schema> = {};
  const ref = (name: string) => ({ $ref: `#/definitions/${name}` });
  for (const k of KINDS) {
    for (const { path, named, inProject, ops } of kindPaths(k)) {
      paths[path] = Object.fromEntries(
        ops.map((op) => {
          const params = [...pathParams(named, inProject), ...(op.query ?? []), ...(op.writes ? WRITE_PARAMS : [])].map(({ schema, ...p }) => ({ ...p, ...(schema as Schema) }));
          const body = op.body ? [{ name: 'body', in: 'body', required: true, schema: op.body.ref ? ref(op.body.ref) : { type: 'object' } }] : [];
          return [
            op.method,
            {
              operationId: operationId(op, k, path),
              summary: op.summary,
              consumes: op.body ? [op.body.media] : undefined,
              produces: ['application/json'],
              parameters: [...params, ...body],
              responses: { [op.code ?? '200']: { description: op.code ? 'Created' : 'OK', schema: ref(op.answer) } },
              'x-kubernetes-action': op.action,
              'x-kubernetes-group-version-kind': gvk(k.kind),
            },
          ];
        }),
      );
    }
  }
  return {
    swagger: '2.0',
    info: { title: 'Outpost admin API', version },
    securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer <API token>' } },
    security: [{ BearerToken: [] }],
    paths,
    definitions: schemas('#/definitions/'),
  };
}

/** The OpenAPI documents one hub serves, made once (they depend on the schema and the version only). */
export interface OpenApiDocuments {
  v2: string;
  /** The v2 document as gnostic's protobuf Document, which client-go asks for first. */
  v2Protobuf: Uint8Array;
  /** The group version's document, its hash, and the /openapi/v3 index that points at it by that hash. */
  v3: { path: string; body: string; hash: string; index: string };
}

export const OPENAPI_V3_GV_PATH = `/openapi/v3/apis/${GROUP_VERSION}`;

export function openApiDocuments(version: string): OpenApiDocuments {
  const body = JSON.stringify(openApiV3Document(version));
  // As kube-apiserver's: the hash names the document's content, so a client may cache it for good.
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  const index = JSON.stringify({ paths: { [`apis/${GROUP_VERSION}`]: { serverRelativeURL: `${OPENAPI_V3_GV_PATH}?hash=${hash}` } } });
  const v2 = openApiV2Document(version);
  return { v2: JSON.stringify(v2), v2Protobuf: openApiV2Protobuf(v2), v3: { path: OPENAPI_V3_GV_PATH, body, hash, index } };
}
