// Server-side apply (PATCH application/apply-patch+yaml), as kube-apiserver does it: a manager sends the
// whole configuration it cares about; the hub merges it into the object, removes what that manager
// applied before and no longer sends (unless someone else owns it), and refuses to change a field another
// manager owns unless forced. The semantics follow kubernetes-sigs/structured-merge-diff; lists merge as
// field-set.ts's LIST_TYPES says, every other list is atomic.
import { lookupType, type FieldProblem, type KindInfo, type ResourceObject } from '@outpost/proto';
import type protobuf from 'protobufjs';
import { HubError, InvalidError } from '../errors.js';
import { differsAt, FieldSet, fieldSetOf, isMapField, keyedItems, keyElement, listType, messageType, pathString, removeAt, setMembers, valueAt, valueElement, type FieldPath, type Subresource } from './field-set.js';
import { BEFORE_FIRST_APPLY, capUpdateManagers, decodeManagers, withManagers, type ManagedFieldsEntryJson, type Manager } from './managed-fields.js';

export interface ApplyRequest {
  kind: KindInfo;
  /** The stored object, or undefined: apply creates it. */
  live: ResourceObject | undefined;
  /** The applied configuration, shape-checked, apiVersion/kind/name/project checked against the path. */
  config: ResourceObject;
  manager: string;
  /** ?force=true: take the conflicting fields from their managers instead of failing. */
  force: boolean;
  /** When the manager's entry is stamped (RFC 3339). */
  time: string;
  /** 'status': apply the configuration's status (to an object that exists); else metadata and spec. */
  subresource?: Subresource;
}

export interface FieldConflict {
  manager: Manager;
  path: FieldPath;
}

function managerLabel(m: Manager): string {
  // As kube-apiserver prints a manager: an Update one with the API version it wrote through.
  return m.operation === 'Update' ? `${JSON.stringify(m.manager)} using ${m.apiVersion}` : JSON.stringify(m.manager);
}

/** Kubernetes' 409 for apply conflicts: one cause per field, the message listing them by manager. */
export class ApplyConflictError extends HubError {
  override readonly name = 'ApplyConflictError';
  override readonly causeReason = 'FieldManagerConflict';
  constructor(readonly conflicts: readonly FieldConflict[]) {
    super(409, 'Conflict', conflictMessage(conflicts), conflicts.map((c) => ({ field: pathString(c.path), message: `conflict with ${managerLabel(c.manager)}` })));
  }
}

function conflictMessage(conflicts: readonly FieldConflict[]): string {
  const first = conflicts[0]!;
  // Kubernetes' message, then what to do (kubectl adds its own advice after it; other clients get this).
  const advice = '\nApply with force=true (kubectl apply --server-side --force-conflicts) to take these fields, or leave them out of your configuration.';
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${managerLabel(first.manager)}: ${pathString(first.path)}${advice}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const label = managerLabel(c.manager);
    byManager.set(label, [...(byManager.get(label) ?? []), pathString(c.path)]);
  }
  const lines = [...byManager.keys()].sort().flatMap((label) => [`conflicts with ${label}:`, ...byManager.get(label)!.map((p) => `- ${p}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}${advice}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Refuses a configuration whose merged lists cannot be told apart: an item without its merge key, two
 * items with one key, a set naming a member twice. (A stored object with such a list is read whole.)
 */
function checkLists(type: protobuf.Type, value: unknown, at: string, out: FieldProblem[]): void {
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const field = type.fields[key];
    if (!field || child === null || child === undefined) continue;
    const here = at ? `${at}.${key}` : key;
    const inner = messageType(field);
    if (isMapField(field)) {
      if (inner && isObject(child)) for (const [mk, mv] of Object.entries(child)) checkLists(inner, mv, `${here}[${JSON.stringify(mk)}]`, out);
    } else if (field.repeated && Array.isArray(child)) {
      const lt = listType(type, key);
      if (lt === 'set' && !setMembers(child)) out.push({ field: here, message: 'lists a value twice; each value of this list is one member of a set' });
      else if (lt && lt !== 'set' && !keyedItems(child, lt.keys)) out.push({ field: here, message: `every item needs ${lt.keys.join(', ')}, unique in the list: items are merged by it` });
      if (inner) child.forEach((item, i) => checkLists(inner, item, `${here}[${i}]`, out));
    } else if (inner) checkLists(inner, child, here, out);
  }
}

function mergeList(type: protobuf.Type, key: string, inner: protobuf.Type | undefined, live: unknown, applied: unknown[]): unknown {
  const lt = listType(type, key);
  if (!lt || !Array.isArray(live)) return applied;
  if (lt === 'set') {
    if (!setMembers(live)) return applied;
    const have = new Set(live.map(valueElement));
    return [...live, ...applied.filter((v) => !have.has(valueElement(v)))];
  }
  const liveItems = keyedItems(live, lt.keys);
  if (!liveItems || !inner) return applied;
  const byKey = new Map((applied as Record<string, unknown>[]).map((item) => [keyElement(item, lt.keys), item]));
  const merged = liveItems.map((item) => {
    const mine = byKey.get(keyElement(item, lt.keys));
    return mine ? mergeMessage(inner, item, mine) : item;
  });
  const have = new Set(liveItems.map((item) => keyElement(item, lt.keys)));
  return [...merged, ...(applied as Record<string, unknown>[]).filter((item) => !have.has(keyElement(item, lt.keys)))];
}

/**
 * `applied` merged into `live`: what the configuration sets wins, what it leaves out stays. A null in the
 * configuration is taken as leaving the field out (not as an order to clear it: removal is by no longer
 * sending a field one applied before).
 */
function mergeMessage(type: protobuf.Type, live: unknown, applied: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = isObject(live) ? { ...live } : {};
  for (const [key, value] of Object.entries(applied)) {
    if (value === null || value === undefined) continue;
    const field = type.fields[key];
    const inner = field ? messageType(field) : undefined;
    if (!field) out[key] = value;
    else if (isMapField(field) && isObject(value)) {
      const map: Record<string, unknown> = isObject(out[key]) ? { ...(out[key] as Record<string, unknown>) } : {};
      for (const [mk, mv] of Object.entries(value)) {
        if (mv === null || mv === undefined) continue;
        map[mk] = inner && isObject(mv) ? mergeMessage(inner, map[mk], mv) : mv;
      }
      out[key] = map;
    } else if (field.repeated && Array.isArray(value)) out[key] = mergeList(type, key, inner, out[key], value);
    else if (inner && isObject(value)) out[key] = mergeMessage(inner, out[key], value);
    else out[key] = value;
  }
  return out;
}

const OWNED_METADATA = ['labels', 'annotations', 'finalizers'] as const;

function ownedMetadata(meta: ResourceObject['metadata'] | undefined): Record<string, unknown> {
  const m = (meta ?? {}) as Record<string, unknown>;
  return Object.fromEntries(OWNED_METADATA.filter((k) => m[k] !== undefined && m[k] !== null).map((k) => [k, m[k]]));
}

/**
 * The configuration merged into the stored object: metadata's owned fields and spec, status untouched;
 * or for /status the status alone.
 */
function mergeObject(kind: KindInfo, live: ResourceObject, config: ResourceObject, subresource: Subresource): ResourceObject {
  if (subresource === 'status') {
    const status = mergeMessage(lookupType(kind.kind), { status: live.status }, { status: config.status }).status;
    return structuredClone({ ...live, status: (status ?? live.status) as ResourceObject['status'] });
  }
  const meta = mergeMessage(lookupType('ObjectMeta'), ownedMetadata(live.metadata), ownedMetadata(config.metadata));
  const spec = mergeMessage(lookupType(kind.kind), { spec: live.spec }, { spec: config.spec }).spec;
  return structuredClone({ ...live, metadata: { ...live.metadata, ...meta }, spec: (spec ?? live.spec) as ResourceObject['spec'] });
}

/**
 * Removes from `obj` in place what an applier `dropped` (owned before, sent no more), but nothing someone
 * else owns, or owns something within; then any map or list those removals emptied (labels: {} after the
 * last label) that nobody owns. Deepest first, so a list item goes after what was in it.
 */
function removeDropped(obj: ResourceObject, dropped: FieldSet, applied: FieldSet, ownedByOthers: FieldSet): void {
  const paths = [...dropped].sort((a, b) => b.length - a.length);
  for (const p of paths) if (!ownedByOthers.hasWithin(p)) removeAt(obj, p);
  for (const p of paths) {
    for (let n = p.length - 1; n > 0; n--) {
      const parent = p.slice(0, n);
      const v = valueAt(obj, parent);
      const empty = v.found && ((Array.isArray(v.value) && v.value.length === 0) || (isObject(v.value) && Object.keys(v.value).length === 0));
      if (!empty || applied.hasWithin(parent) || ownedByOthers.hasWithin(parent)) break;
      removeAt(obj, parent);
    }
  }
}

/**
 * The object after `req.manager` applied `req.config`, with its managedFields. Throws ApplyConflictError
 * (409) when the configuration changes fields others own and `force` is not set; InvalidError (422) for
 * a configuration whose lists cannot be merged.
 */
export function applyConfiguration(req: ApplyRequest): ResourceObject {
  const { kind, live, manager, time } = req;
  const sub = req.subresource ?? '';
  const problems: FieldProblem[] = [];
  if (sub === 'status') checkLists(lookupType(kind.kind), { status: req.config.status }, '', problems);
  else {
    checkLists(lookupType('ObjectMeta'), ownedMetadata(req.config.metadata), 'metadata', problems);
    checkLists(lookupType(kind.kind), { spec: req.config.spec }, '', problems);
  }
  if (problems.length) throw new InvalidError({ kind: kind.kind, namespace: req.config.metadata.namespace ?? undefined, name: req.config.metadata.name ?? '' }, problems);
  // Status is not applied through the main resource (Kubernetes resets it there too), nor spec through /status.
  const config: ResourceObject = sub === 'status' ? { ...req.config, spec: undefined } : { ...req.config, status: undefined };
  const applied = fieldSetOf(kind, config, sub);
  const entry = (fields: FieldSet): Manager => ({ manager, operation: 'Apply', apiVersion: config.apiVersion, time, subresource: sub, fields });
  if (!live && sub === 'status') throw new InvalidError({ kind: kind.kind, name: config.metadata.name ?? '' }, [{ field: 'metadata.name', message: 'a status is applied to an object that exists; create it first' }]);
  if (!live) {
    const { managedFields: _none, ...metadata } = config.metadata;
    return withManagers({ ...config, metadata }, [entry(applied)]);
  }
  let managers = decodeManagers(live.metadata.managedFields as ManagedFieldsEntryJson[] | undefined);
  // A part nobody has managed yet (an object from before managedFields, a status only agents wrote):
  // whoever wrote it owns all of it, so the first apply cannot silently overwrite it (Kubernetes'
  // before-first-apply).
  if (!managers.some((m) => m.subresource === sub)) managers = [...managers, { manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: live.apiVersion, time, subresource: sub, fields: fieldSetOf(kind, live, sub) }];
  const merged = mergeObject(kind, live, config, sub);
  const isMine = (m: Manager): boolean => m.manager === manager && m.operation === 'Apply' && m.subresource === sub;
  const mine = managers.find(isMine);
  // Every other manager, of either part: their paths never overlap the other part's.
  const others = managers.filter((m) => m !== mine);
  const conflicts: FieldConflict[] = [];
  for (const m of others) for (const p of applied) if (m.fields.has(p) && differsAt(live, merged, p)) conflicts.push({ manager: m, path: p });
  conflicts.sort((a, b) => pathString(a.path).localeCompare(pathString(b.path)));
  if (conflicts.length && !req.force) throw new ApplyConflictError(conflicts);
  // Forced: the fields change hands. Copies, so the stored managers are never edited in place.
  managers = managers.map((m) => {
    const taken = conflicts.filter((c) => c.manager === m);
    if (!taken.length) return m;
    const fields = new FieldSet(m.fields);
    for (const c of taken) fields.delete(c.path);
    return { ...m, fields };
  });
  const ownedByOthers = managers.filter((m) => !isMine(m)).reduce((acc, m) => acc.union(m.fields), new FieldSet());
  removeDropped(merged, (mine?.fields ?? new FieldSet()).difference(applied), applied, ownedByOthers);
  const next = mine ? managers.map((m) => (m === mine ? entry(applied) : m)) : [...managers, entry(applied)];
  return withManagers(merged, capUpdateManagers(next));
}
