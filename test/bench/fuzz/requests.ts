// Admin API requests to fuzz with: real paths, kinds and names most of the time (so a request gets past
// routing and authentication into the verbs), odd ones the rest; the query parameters the API knows and
// some it does not, with values near their edges; bodies that are objects almost valid, JSON of any
// shape, YAML, or noise.
import { GROUP_VERSION, JOIN_PATH, KINDS } from '@outpost/proto';
import fc from 'fast-check';

export interface FuzzRequest {
  method: string;
  path: string;
  query: Array<[string, string]>;
  /** Path and query, as sent. */
  url: string;
  body: string | undefined;
  contentType: string | undefined;
  /** 'admin': the admin token; a string: that Authorization header; undefined: none. */
  auth: string | undefined;
}

const API = `/apis/${GROUP_VERSION}`;
const PARAMS = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'watch', 'allowWatchBookmarks', 'timeoutSeconds', 'sendInitialEvents', 'includeObject', 'pretty', 'timeout', 'dryRun', 'fieldManager', 'fieldValidation', 'force', 'gracePeriodSeconds', 'propagationPolicy', 'orphanDependents', 'verbose'];
const token = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const VALUES = [
  '', 'true', 'false', '1', '0', '-1', 'All', 'Exact', 'NotOlderThan', 'Object', 'None', 'Ignore', 'Strict', 'Orphan', '500', '99999999999999999999', '1e3', '0x10', '30s', '1h2m',
  'tier=gold', 'tier in (gold,silver)', 'tier notin (gold)', '!tier', 'tier!=gold', 'tier!', 'a,b', '((', 'in', 'x in ()', 'a=b=c', 'metadata.name=pos', 'metadata.name!=pos', 'spec.x=1', 'metadata.name',
  token({ rv: 1, kind: 'Site', ns: null, after: ['', 'a'] }), token({ rv: 1e300, kind: 'Site', ns: null, after: ['', 'a'] }), token({ rv: 1, kind: 'Cluster', ns: 'demo', after: [1, 2] }), token([]), token(null), 'eyJ', '%zz',
];
const NAMES = ['demo', 'pos', 'store-0412', 'hamburg-stores', 'fuzz01', 'nope', '', '..', '.', '%2F', '%zz', '%', 'a%00b', 'status', 'namespaces', 'x'.repeat(300)];
const WEIRD = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 }).map(encodeURIComponent));

const plural = fc.constantFrom(...KINDS.map((k) => k.plural), 'pods', '');
const path = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.option(fc.constantFrom('demo', 'nope'), { nil: undefined }), plural, fc.option(WEIRD, { nil: undefined }), fc.option(fc.constantFrom('status', 'scale', 'x'), { nil: undefined })).map(([ns, p, name, sub]) => `${API}${ns ? `/namespaces/${ns}` : ''}/${p}${name !== undefined ? `/${name}` : ''}${name !== undefined && sub ? `/${sub}` : ''}`) },
  { weight: 1, arbitrary: fc.constantFrom('/healthz', '/version', '/openapi.json', '/apis', API, JOIN_PATH, '/agent/v1/ca.crt', '/', '/api') },
  { weight: 1, arbitrary: fc.array(WEIRD, { maxLength: 6 }).map((s) => `${API}/${s.join('/')}`) },
);

const query = fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...PARAMS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) })), { maxLength: 4 });

const kindName = fc.constantFrom(...KINDS.map((k) => k.kind), 'Pod', '', 'DeleteOptions');
const looseValue = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const object = fc.record(
  {
    apiVersion: fc.oneof(fc.constant(GROUP_VERSION), looseValue),
    kind: fc.oneof(kindName, looseValue),
    metadata: fc.oneof(
      fc.record({ name: fc.oneof(fc.constantFrom(...NAMES), looseValue), namespace: fc.oneof(fc.constantFrom('demo', ''), looseValue), labels: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), looseValue), resourceVersion: fc.oneof(fc.constantFrom('1', '0', '-1', 'x'), looseValue), finalizers: fc.oneof(fc.array(fc.string({ maxLength: 10 })), looseValue) }, { requiredKeys: [] }),
      looseValue,
    ),
    spec: fc.oneof(fc.dictionary(fc.constantFrom('version', 'datacenter', 'controlPlane', 'location', 'provider', 'site', 'seed', 'type', 'role', 'ttl', 'sshKeys', 'hosts', 'mode'), looseValue), looseValue),
    status: looseValue,
    dryRun: fc.oneof(fc.constant(['All']), looseValue),
    preconditions: fc.oneof(fc.record({ resourceVersion: looseValue }), looseValue),
    token: looseValue,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 4, arbitrary: object.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '[]', '{}', '{"kind":', 'kind: Site\nmetadata: {name: x}\n', '\u0000', '{"metadata":{"name":"pos","namespace":"demo"}}', `{"a":${'['.repeat(5000)}`) },
);

// Objects nearly right for their collection, so writes get past the shape check into admission and the
// store: a valid base per kind, then a few fields set to anything.
const BASES: ReadonlyArray<{ plural: string; namespaced: boolean; spec: Record<string, unknown> }> = [
  { plural: 'projects', namespaced: false, spec: { displayName: 'Demo' } },
  { plural: 'sites', namespaced: false, spec: { location: 'Hamburg' } },
  { plural: 'seeds', namespaced: false, spec: { location: 'Frankfurt' } },
  { plural: 'datacenters', namespaced: false, spec: { provider: 'edge', site: 'store-0412' } },
  { plural: 'hosts', namespaced: false, spec: { site: 'store-0412', address: '10.0.0.1', sshPort: 22, sshUser: 'root' } },
  { plural: 'clusters', namespaced: true, spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 } } },
  { plural: 'releases', namespaced: false, spec: { version: '1.33.0', components: { kubelet: '1.33.0' } } },
  { plural: 'sshkeys', namespaced: true, spec: { publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x' } },
  { plural: 'tokens', namespaced: false, spec: { type: 'api', role: 'viewer' } },
  { plural: 'agents', namespaced: false, spec: { role: 'site', site: 'store-0412' } },
];
const FIELDS = ['spec.version', 'spec.datacenter', 'spec.controlPlane', 'spec.controlPlane.replicas', 'spec.controlPlane.mode', 'spec.site', 'spec.seed', 'spec.provider', 'spec.sshKeys', 'spec.workers', 'spec.role', 'spec.type', 'spec.ttl', 'spec.components', 'spec.members', 'metadata.labels', 'metadata.finalizers', 'metadata.resourceVersion', 'metadata.namespace', 'metadata.name', 'status', 'status.conditions', 'kind', 'apiVersion'];

function setAt(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at: Record<string, unknown> = o;
  for (const k of keys.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== 'object' || next === null) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]!] = value;
}

const targeted: fc.Arbitrary<Omit<FuzzRequest, 'url' | 'query'> & { query: Array<[string, string]> }> = fc
  .record({
    base: fc.constantFrom(...BASES),
    name: fc.constantFrom('demo', 'pos', 'store-0412', 'hamburg-stores', 'n1', 'n2', 'n3'),
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE'),
    named: fc.boolean(),
    status: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
    edits: fc.array(fc.tuple(fc.constantFrom(...FIELDS), looseValue), { maxLength: 2 }),
    labels: fc.option(fc.dictionary(fc.constantFrom('tier', 'env', 'outpost.dev/site'), fc.constantFrom('gold', 'silver', '', 'x')), { nil: undefined }),
    query: fc.oneof({ weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: query }),
  })
  .map(({ base, name, method, named, status, edits, labels, query }) => {
    const o: Record<string, unknown> = { apiVersion: GROUP_VERSION, kind: KINDS.find((k) => k.plural === base.plural)!.kind, metadata: { name, ...(base.namespaced ? { namespace: 'demo' } : {}), ...(labels ? { labels } : {}) }, spec: structuredClone(base.spec) };
    for (const [field, value] of edits) setAt(o, field, value);
    const withName = named || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
    const path = `${API}${base.namespaced ? '/namespaces/demo' : ''}/${base.plural}${withName && method !== 'POST' ? `/${name}${status ? '/status' : ''}` : ''}`;
    const body = method === 'GET' ? undefined : method === 'PATCH' ? JSON.stringify(edits.length ? Object.fromEntries(edits.map(([f, v]) => [f.split('.')[0], v])) : { metadata: { labels: labels ?? { tier: 'gold' } } }) : method === 'DELETE' ? undefined : JSON.stringify(o);
    return { method, path, query, body, contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', auth: 'admin' };
  });

const random = fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
      path,
      query,
      rawQuery: fc.option(fc.constantFrom('%zz', 'a=%', '=', '&&', 'labelSelector', 'limit=%E0%A4%A'), { nil: undefined }),
      body: fc.option(body, { nil: undefined }),
      contentType: fc.option(fc.constantFrom('application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json', 'text/plain', 'application/json; charset=utf-8', ';;'), { nil: undefined }),
      auth: fc.oneof({ weight: 8, arbitrary: fc.constant('admin') }, { weight: 1, arbitrary: fc.constantFrom('Bearer nope.nope', 'Bearer ', 'Basic eA==', 'Bearer fuzz01.', 'Bearer ' + 'x'.repeat(5000)) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    })
    .map(({ method, path, query, rawQuery, body, contentType, auth }) => ({ method, path, query: [...query, ...(rawQuery ? [[rawQuery, ''] as [string, string]] : [])], raw: rawQuery, body: method !== 'GET' && method !== 'HEAD' ? body : undefined, contentType, auth }));

export function fuzzRequest(): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ weight: 2, arbitrary: targeted.map((t) => ({ ...t, raw: undefined as string | undefined })) }, { weight: 1, arbitrary: random }).map(({ raw, ...r }) => {
    // A raw piece (a bad escape) goes into the query as it is; the rest is encoded as a client would.
    const q = r.query.filter(([k]) => k !== raw).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    if (raw) q.push(raw);
    return { ...r, url: q.length ? `${r.path}?${q.join('&')}` : r.path };
  });
}
