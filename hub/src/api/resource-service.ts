// The admin API's verbs on resources, apart from HTTP: shape check, admission, authorization, store.
import { checkResourceShape, dropUnknownResourceFields, GROUP_VERSION, rfc3339, SchemaError, type Agent, type FieldProblem, type KindInfo, type ResourceObject, type Token } from '@outpost/proto';
import { authorize, type Principal, type Verb } from '../auth/principal.js';
import { hashSecret, randomToken } from '../auth/secrets.js';
import { systemClock, type Clock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { BadRequestError, InvalidError, NotFoundError } from '../errors.js';
import { withPresence } from '../store/presence-table.js';
import type { KeyFieldTerm } from '../store/list-page.js';
import type { Store } from '../store/store.js';
import { admit, admitChange } from './admission.js';
import { decodeContinue, encodeContinue } from './continue-token.js';
import type { FieldSelector } from './field-selector.js';
import { requireObject } from './json-body.js';
import { applyJsonPatch } from './json-patch.js';
import type { LabelSelector } from './label-selector.js';
import { recordUpdate, sameButForTimes, startingManagers, withManagers } from './managed-fields.js';
import { mergePatch } from './merge-patch.js';
import { applyConfiguration } from './server-side-apply.js';
import type { ResourcePath } from './resource-path.js';

export interface ListResult {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: ResourceObject[];
}

/** A list request's options, as Kubernetes' ListOptions (the query parameters, checked for form). */
export interface ListRequest {
  labelSelector?: LabelSelector | undefined;
  fieldSelector?: FieldSelector | undefined;
  /** At most this many items; 0 or undefined for all. */
  limit?: number | undefined;
  /** metadata.continue of the page before. */
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact' | undefined;
}

/**
 * The revision a list is read at. Kubernetes: unset or "0", the newest (any is allowed for "0", and
 * the newest is one); N with NotOlderThan (the default), the newest if it is N or later; N with Exact,
 * the store as it was at N, which the change log answers back to the compacted revision (410 before).
 * A continued list is read at its first page's revision, so the pages together are one snapshot.
 */
function listRevision(req: ListRequest, now: number): number | undefined {
  const rv = req.resourceVersion;
  if (req.continue !== undefined) {
    if ((rv ?? '') !== '' || req.resourceVersionMatch) throw new BadRequestError('resourceVersion and resourceVersionMatch cannot be given with continue: a continued list is read at the revision of its first page');
    return undefined;
  }
  if (req.resourceVersionMatch && !rv) throw new BadRequestError(`resourceVersionMatch=${req.resourceVersionMatch} needs a resourceVersion`);
  if (!rv || rv === '0') {
    if (req.resourceVersionMatch === 'Exact') throw new BadRequestError('resourceVersionMatch=Exact needs a resourceVersion other than 0');
    return undefined;
  }
  const n = Number(rv);
  if (!/^[0-9]+$/.test(rv) || !Number.isSafeInteger(n)) throw new BadRequestError(`resourceVersion "${rv}" is not a revision number`);
  if (n > now) throw new BadRequestError(`resourceVersion ${n} is newer than the hub's revision ${now}; list without resourceVersion for the newest`);
  return req.resourceVersionMatch === 'Exact' ? n : undefined;
}

/** How a write treats fields the schema does not know (Kubernetes' fieldValidation). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** What a write says about itself besides its body: who writes (for managedFields) and how strictly. */
export interface WriteOptions {
  /** The field manager: ?fieldManager, else derived from the User-Agent (see defaultFieldManager). */
  fieldManager: string;
  /** Strict refuses unknown fields; Warn drops them and says so in `warnings`; Ignore drops them. */
  fieldValidation: FieldValidation;
  /** Filled by the write: what the response's Warning headers say. */
  warnings: string[];
}

function named(path: ResourcePath): string {
  if (!path.name) throw new BadRequestError(`this verb needs a name: ${path.kind.plural}/<name>`);
  return path.name;
}

/** An object as the API shows it: an Agent with its presence (connected, acked, last seen) in status. */
export function shown<T extends ResourceObject>(store: Store, obj: T): T {
  return obj.kind === 'Agent' ? (withPresence(obj as Agent, store.presence.get(obj.metadata.name ?? '')) as T) : obj;
}

/**
 * A body's metadata.name and metadata.namespace, where it gives them, must be the path's (Kubernetes
 * answers 400 here too). A namespace left out is filled from the path later; a name left out of a
 * body sent to a named path is refused as "required" by the shape check.
 */
function checkIdentity(path: ResourcePath, body: unknown): void {
  const meta = body !== null && typeof body === 'object' ? (body as { metadata?: unknown }).metadata : undefined;
  if (meta === null || typeof meta !== 'object') return;
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  if (path.name !== undefined && name !== undefined && name !== null && name !== path.name) {
    throw new BadRequestError(`metadata.name ${JSON.stringify(name)} does not match the name in the path "${path.name}"; a write changes only the object its path names (to rename, create the new object and delete the old one)`);
  }
  if (path.kind.namespaced && path.namespace !== undefined && namespace !== undefined && namespace !== null && namespace !== '' && namespace !== path.namespace) {
    throw new BadRequestError(`metadata.namespace ${JSON.stringify(namespace)} does not match the project in the path "${path.namespace}"; send it to /namespaces/${typeof namespace === 'string' ? namespace : '<project>'}/${path.kind.plural} instead`);
  }
}

export class ResourceService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock = systemClock,
  ) {}

  private can(p: Principal, verb: Verb, path: ResourcePath, name = path.name): void {
    authorize(p, verb, path.kind, path.namespace, name);
  }

  private key(path: ResourcePath) {
    return { kind: path.kind.kind, namespace: path.namespace ?? '', name: named(path) };
  }

  /** One page (or all) of a collection, read from the store by key range with the selectors in SQL. */
  list(p: Principal, path: ResourcePath, req: ListRequest = {}): ListResult {
    this.can(p, 'list', path);
    const scope = { kind: path.kind.kind, namespace: path.namespace };
    const asked = listRevision(req, this.store.revision());
    const token = req.continue !== undefined ? decodeContinue(req.continue, scope) : undefined;
    const fields: KeyFieldTerm[] = (req.fieldSelector ?? []).map((t) => ({ field: t.field === 'metadata.name' ? 'name' : 'namespace', value: t.value, negated: t.negated }));
    if (path.kind.kind === 'Project' && p.role !== 'admin') fields.push({ field: 'name', value: p.project ?? '', negated: false });
    const page = this.store.listPage(path.kind.kind, {
      namespace: path.namespace,
      labelSelector: req.labelSelector,
      fields,
      limit: req.limit,
      after: token?.after,
      atRevision: token?.revision ?? asked,
    });
    let items = page.items;
    if (path.kind.kind === 'Agent') {
      const presence = this.store.presence.all();
      items = items.map((a) => withPresence(a as Agent, presence.get(a.metadata.name ?? '')));
    }
    const metadata: ListResult['metadata'] = { resourceVersion: String(page.revision) };
    if (page.next) metadata.continue = encodeContinue({ ...scope, revision: page.revision, after: page.next });
    if (page.remaining !== undefined) metadata.remainingItemCount = page.remaining;
    return { apiVersion: GROUP_VERSION, kind: `${path.kind.kind}List`, metadata, items };
  }

  get(p: Principal, path: ResourcePath): ResourceObject {
    this.can(p, 'get', path);
    const k = this.key(path);
    return shown(this.store, this.store.mustGet(k.kind, k.namespace, k.name));
  }

  create(p: Principal, path: ResourcePath, body: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    // Authorize before validating: a caller without rights learns nothing from validation errors.
    const claimedName = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    this.can(p, 'create', path, typeof claimedName === 'string' ? claimedName : undefined);
    const parsed = this.parse(path, this.knownFields(path, body, w), { nameOptional: path.kind.kind === 'Token' });
    this.can(p, 'create', path, parsed.metadata.name ?? undefined);
    const obj = this.managed(path, parsed, undefined, w);
    if (obj.kind === 'Token') return this.createToken(p, obj as Token);
    this.admit(obj, path);
    return this.store.create({ ...obj, status: undefined }, { actor: p.name });
  }

  replace(p: Principal, path: ResourcePath, body: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'update', path);
    const obj = this.parse(path, this.knownFields(path, body, w));
    const current = this.store.get(obj.kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    this.admit(obj, path, current);
    const next = this.managed(path, this.keepImmutable(obj, path), current, w);
    return shown(this.store, this.store.replace(next, { actor: p.name }, { expectResourceVersion: obj.metadata.resourceVersion || undefined }));
  }

  /** RFC 7386 merge patch of the object (not its status). */
  patch(p: Principal, path: ResourcePath, patch: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'patch', path);
    requireObject(patch, 'a merge patch');
    const current = this.get(p, path);
    const { status: _ignored, ...patchable } = current;
    return this.update(p, path, current, mergePatch(patchable, patch), w);
  }

  /** RFC 6902 JSON patch of the object; what it does to status is not kept (status has its own path). */
  jsonPatch(p: Principal, path: ResourcePath, patch: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'patch', path);
    const current = this.get(p, path);
    const patched = applyJsonPatch<unknown>(current, patch);
    const isObject = patched !== null && typeof patched === 'object' && !Array.isArray(patched);
    return this.update(p, path, current, isObject ? { ...patched, status: undefined } : patched, w);
  }

  /**
   * Server-side apply of `config` by `w.fieldManager`: creates the object if it is missing, else merges
   * it in, with ownership and conflicts as in server-side-apply.ts. A configuration that changes nothing
   * writes nothing (no new revision, no poke), so a controller may apply every loop.
   */
  apply(p: Principal, path: ResourcePath, body: unknown, force: boolean, w: WriteOptions): ResourceObject {
    this.can(p, 'patch', path);
    const k = this.key(path);
    const live = this.store.get(k.kind, k.namespace, k.name);
    if (!live) this.can(p, 'create', path);
    const config = this.appliedConfiguration(path, body, w);
    const result = applyConfiguration({ kind: path.kind, live, config, manager: w.fieldManager, force, time: rfc3339(this.clock.now()) });
    if (!live) {
      if (result.kind === 'Token') return this.createToken(p, result as Token);
      this.admit(result, path);
      return this.store.create({ ...result, status: undefined }, { actor: p.name });
    }
    if (sameButForTimes(result, live)) return shown(this.store, live);
    this.admit(result, path, live);
    const expect = config.metadata.resourceVersion || live.metadata.resourceVersion || undefined;
    return shown(this.store, this.store.replace(this.keepImmutable(result, path), { actor: p.name }, { expectResourceVersion: expect, exactFinalizers: true }));
  }

  /** An apply's body, checked as a create's would be, for the object the path names. */
  private appliedConfiguration(path: ResourcePath, body: unknown, w: WriteOptions): ResourceObject {
    const config = this.parse(path, this.knownFields(path, body, w));
    if (config.metadata.managedFields?.length) throw new BadRequestError('an applied configuration must not set metadata.managedFields: the hub keeps them; leave them out');
    return config;
  }

  /** A patch's result, checked and written as a replace that starts from `current`. */
  private update(p: Principal, path: ResourcePath, current: ResourceObject, patched: unknown, w: WriteOptions): ResourceObject {
    const obj = this.parse(path, this.knownFields(path, patched, w));
    this.admit(obj, path, current);
    // Optimistic concurrency always holds: a patch that names no resourceVersion (or an empty one) is
    // checked against the version it was merged onto, never written unconditionally.
    const expect = obj.metadata.resourceVersion || current.metadata.resourceVersion || undefined;
    const next = this.managed(path, this.keepImmutable(obj, path), current, w);
    // A patch starts from the stored finalizers, so what it leaves there is what the caller wants:
    // this is how an operator removes an agent's finalizer (`outpost delete --force`).
    return shown(this.store, this.store.replace(next, { actor: p.name }, { expectResourceVersion: expect, exactFinalizers: true }));
  }

  private defaults(p: Principal): WriteOptions {
    return { fieldManager: p.name, fieldValidation: 'Strict', warnings: [] };
  }

  /** `body` as fieldValidation wants it: untouched under Strict (the shape check refuses unknown fields). */
  private knownFields(path: ResourcePath, body: unknown, w: WriteOptions): unknown {
    if (w.fieldValidation === 'Strict') return body;
    const { value, dropped } = dropUnknownResourceFields(path.kind, body);
    if (w.fieldValidation === 'Warn') w.warnings.push(...dropped.map((f) => `unknown field "${f}"`));
    return value;
  }

  /** `next` with managedFields recording an Update by `w.fieldManager` from `current` (undefined: a create). */
  private managed<T extends ResourceObject>(path: ResourcePath, next: T, current: ResourceObject | undefined, w: WriteOptions): T {
    const managers = recordUpdate(path.kind, startingManagers(next, current), current, next, w.fieldManager, rfc3339(this.clock.now()));
    return withManagers(next, managers);
  }

  delete(p: Principal, path: ResourcePath, resourceVersion?: string): ResourceObject {
    this.can(p, 'delete', path);
    const k = this.key(path);
    const deleted = this.store.delete(k, { actor: p.name }, { expectResourceVersion: resourceVersion });
    if (k.kind === 'Token') this.store.deleteCredential(`token/${k.name}`);
    return deleted;
  }

  replaceStatus(p: Principal, path: ResourcePath, body: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'update', path);
    const obj = this.parse(path, this.knownFields(path, body, w));
    const k = this.key(path);
    return this.writeStatus(p, path, this.store.mustGet(k.kind, k.namespace, k.name), obj.status, obj.metadata.resourceVersion ?? undefined, w);
  }

  patchStatus(p: Principal, path: ResourcePath, patch: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'patch', path);
    requireObject(patch, 'a merge patch');
    const current = this.get(p, path);
    const obj = this.parse(path, this.knownFields(path, mergePatch(current, patch), w));
    return this.writeStatus(p, path, current, obj.status, current.metadata.resourceVersion ?? undefined, w);
  }

  /** RFC 6902 JSON patch of the status; what it does elsewhere is not kept. */
  jsonPatchStatus(p: Principal, path: ResourcePath, patch: unknown, w: WriteOptions = this.defaults(p)): ResourceObject {
    this.can(p, 'patch', path);
    const current = this.get(p, path);
    const obj = this.parse(path, this.knownFields(path, applyJsonPatch<unknown>(current, patch), w));
    return this.writeStatus(p, path, current, obj.status, current.metadata.resourceVersion ?? undefined, w);
  }

  /** Server-side apply of `body`'s status to an object that exists, by `w.fieldManager`. */
  applyStatus(p: Principal, path: ResourcePath, body: unknown, force: boolean, w: WriteOptions): ResourceObject {
    this.can(p, 'patch', path);
    const k = this.key(path);
    const live = this.store.mustGet(k.kind, k.namespace, k.name);
    const config = this.appliedConfiguration(path, body, w);
    const result = applyConfiguration({ kind: path.kind, live, config, manager: w.fieldManager, force, time: rfc3339(this.clock.now()), subresource: 'status' });
    if (sameButForTimes(result, live)) return shown(this.store, live);
    const expect = config.metadata.resourceVersion || live.metadata.resourceVersion || undefined;
    return shown(this.store, this.store.replaceStatus(k, result.status, { actor: p.name }, { expectResourceVersion: expect, managedFields: result.metadata.managedFields ?? [] }));
  }

  /** A status write through the API, with an Update by `w.fieldManager` recorded for /status. */
  private writeStatus(p: Principal, path: ResourcePath, current: ResourceObject, status: ResourceObject['status'], expect: string | undefined, w: WriteOptions): ResourceObject {
    const next = { ...current, status };
    const managers = recordUpdate(path.kind, startingManagers(undefined, current), current, next, w.fieldManager, rfc3339(this.clock.now()), 'status');
    const managedFields = withManagers(next, managers).metadata.managedFields ?? [];
    return shown(this.store, this.store.replaceStatus(this.key(path), status, { actor: p.name }, { expectResourceVersion: expect, managedFields }));
  }

  /**
   * Checks shape, apiVersion, kind and the project of `body` against the path it was sent to. The path is
   * authoritative: a body (or a merged patch) that names another object or project is refused before
   * anything else is looked at, since authorization was decided by the path, and a write keyed by the
   * body would land on an object the caller was never authorized for.
   */
  private parse(path: ResourcePath, body: unknown, opts: { nameOptional?: boolean } = {}): ResourceObject {
    requireObject(body, `a ${path.kind.kind}`);
    checkIdentity(path, body);
    // Named as the manifest names it, so an operator with many objects knows which one to fix.
    const claimed = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    const what = { kind: path.kind.kind, namespace: path.namespace, name: typeof claimed === 'string' && claimed ? claimed : path.name ?? '(unnamed)' };
    const shape: FieldProblem[] = [];
    try {
      checkResourceShape(path.kind, body);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      shape.push(...err.problems);
    }
    if (shape.length) throw new InvalidError(what, [...shape, ...this.admissionDespite(shape, body)]);
    const obj = body as unknown as ResourceObject;
    const problems = [];
    if (obj.apiVersion !== GROUP_VERSION) problems.push({ field: 'apiVersion', message: `must be ${GROUP_VERSION}, not ${JSON.stringify(obj.apiVersion ?? null)}` });
    if (obj.kind !== path.kind.kind) problems.push({ field: 'kind', message: `must be ${path.kind.kind} at this path, not ${JSON.stringify(obj.kind ?? null)}` });
    if (!obj.metadata) problems.push({ field: 'metadata', message: 'is required' });
    else if (!obj.metadata.name && !opts.nameOptional) problems.push({ field: 'metadata.name', message: 'is required' });
    if (problems.length) throw new InvalidError(what, problems);
    const ns = obj.metadata.namespace ?? '';
    if (path.kind.namespaced) {
      if (!path.namespace) throw new BadRequestError(`${path.kind.plural} live in a project: use /namespaces/<project>/${path.kind.plural}`);
      return { ...obj, metadata: { ...obj.metadata, namespace: path.namespace } };
    }
    if (ns) throw new InvalidError(what, [{ field: 'metadata.namespace', message: `${path.kind.kind} is not in a project; remove metadata.namespace` }]);
    return obj;
  }

  /**
   * Admission's problems with a body that also has shape problems, so one answer names them all (a bad
   * manifest takes one round to fix, not two). Problems under a field that is already malformed are left
   * out: admission read a value of the wrong type there. Admission assumes the shape, so a check that
   * trips over a malformed value adds nothing rather than failing the request.
   */
  private admissionDespite(shape: readonly FieldProblem[], body: unknown): FieldProblem[] {
    const obj = body as ResourceObject | null;
    if (!obj || typeof obj !== 'object' || !obj.metadata || typeof obj.metadata !== 'object') return [];
    let problems: FieldProblem[];
    try {
      problems = admit(obj, this.lookup());
    } catch {
      return [];
    }
    const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    return problems.filter((p) => !shape.some((s) => overlaps(p.field, s.field)));
  }

  private lookup() {
    return {
      exists: (kind: string, ns: string, name: string) => this.store.get(kind, ns, name) !== undefined,
      get: <T extends ResourceObject>(kind: string, ns: string, name: string) => this.store.get<T>(kind, ns, name),
      clustersIn: (datacenter: string) => this.store.clustersIn(datacenter),
      clustersUsingHost: (host: string) => this.store.clustersUsingHost(host),
    };
  }

  /** Admission problems of `obj`, with those of changing it from `current` (replace, patch: immutable fields, version steps), in one answer. */
  private admit(obj: ResourceObject, path: ResourcePath, current?: ResourceObject): void {
    if (path.kind.namespaced && !this.store.get('Project', '', path.namespace ?? '')) {
      throw new NotFoundError({ kind: 'Project', name: path.namespace ?? '' });
    }
    const problems = admit(obj, this.lookup());
    if (current) problems.push(...admitChange(current, obj));
    if (problems.length) throw new InvalidError({ kind: obj.kind, namespace: obj.metadata.namespace ?? undefined, name: obj.metadata.name ?? '' }, problems);
  }

  /** A token's spec is fixed at creation (its secret was issued for it); labels may still change. */
  private keepImmutable(obj: ResourceObject, path: ResourcePath): ResourceObject {
    if (path.kind.kind !== 'Token') return obj;
    const current = this.store.mustGet(path.kind.kind, '', named(path));
    return { ...obj, spec: current.spec };
  }

  private createToken(p: Principal, requested: Token): Token {
    const spec = requested.spec ?? {};
    const id = requested.metadata.name || randomToken(6);
    const secret = randomToken(spec.type === 'api' ? 32 : 16);
    const what = { kind: 'Token', name: id };
    if (!/^[a-z0-9]{6}$/.test(id)) throw new InvalidError(what, [{ field: 'metadata.name', message: 'a token id is 6 lower-case letters or digits; leave it out to have one made' }]);
    const ttl = spec.ttl || (spec.type === 'bootstrap' ? '1h' : '');
    const ttlMs = ttl ? parseDuration(ttl) : undefined;
    const token: Token = {
      ...requested,
      metadata: { ...requested.metadata, name: id },
      spec: { ...spec, ttl, expires: ttlMs !== undefined ? rfc3339(new Date(this.clock.now().getTime() + ttlMs)) : spec.expires },
    };
    this.admit(token, { kind: { kind: 'Token' } as KindInfo, namespace: undefined, name: id, subresource: undefined });
    const created = this.store.transaction(() => {
      const stored = this.store.create({ ...token, status: undefined }, { actor: p.name });
      this.store.putCredential(`token/${id}`, spec.type ?? '', hashSecret(secret));
      return stored;
    });
    return { ...created, status: { token: `${id}.${secret}` } };
  }
}
