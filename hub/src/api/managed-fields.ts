// metadata.managedFields: who owns which fields of an object, as kube-apiserver records them. Every write
// through the admin API updates them here; server-side-apply.ts reads them to find conflicts.
import { isDeepStrictEqual } from 'node:util';
import { GROUP_VERSION, type KindInfo, type ResourceObject } from '@outpost/proto';
import { BadRequestError } from '../errors.js';
import { differsAt, FieldSet, fieldSetOf, fromFieldsV1, toFieldsV1, type Subresource } from './field-set.js';

export type Operation = 'Apply' | 'Update';

/** One manager's fields, decoded. */
export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time: string;
  subresource: string;
  fields: FieldSet;
}

/** A managedFields entry in its JSON form (ObjectMeta.managedFields, fieldsV1 free-form). */
export interface ManagedFieldsEntryJson {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/**
 * How many Update managers an object keeps; older ones are merged into one "ancient-changes" entry, so
 * an object written by many clients stays small (Kubernetes keeps 10 the same way).
 */
export const MAX_UPDATE_MANAGERS = 10;
export const ANCIENT_CHANGES = 'ancient-changes';
/** Owns every field of an object that had no managedFields when it was first applied (Kubernetes' name). */
export const BEFORE_FIRST_APPLY = 'before-first-apply';

/** Kubernetes' limit: a field manager is at most 128 printable characters. */
export function checkFieldManager(name: string): string {
  if (name.length > 128 || !/^[\x20-\x7e]+$/.test(name)) throw new BadRequestError(`fieldManager "${name.slice(0, 40)}" must be 1 to 128 printable ASCII characters`);
  return name;
}

/**
 * The manager of a write that names none, as kube-apiserver derives it: the User-Agent up to its first
 * "/" ("kubectl-edit/v1.33.0 (linux/amd64) ..." is kubectl-edit), else the caller's name.
 */
export function defaultFieldManager(userAgent: string | undefined, principal: string): string {
  const prefix = (userAgent ?? '').split('/')[0]!.trim().replace(/[^\x20-\x7e]/g, '').slice(0, 128);
  return prefix || principal.slice(0, 128) || 'unknown';
}

function sameEntry(m: Manager, manager: string, operation: Operation, subresource: string): boolean {
  return m.manager === manager && m.operation === operation && m.subresource === subresource;
}

/** Decodes managedFields; a malformed entry is the caller's mistake, named, and nothing is written. */
export function decodeManagers(entries: readonly ManagedFieldsEntryJson[] | null | undefined): Manager[] {
  return (entries ?? [])
    .filter((e) => Object.keys(e).length > 0)
    .map((e, i) => {
      const where = `metadata.managedFields[${i}]`;
      if (!e.manager) throw new BadRequestError(`${where}.manager is required`);
      if (e.operation !== 'Apply' && e.operation !== 'Update') throw new BadRequestError(`${where}.operation must be Apply or Update, not ${JSON.stringify(e.operation ?? null)}`);
      if (e.fieldsType !== undefined && e.fieldsType !== 'FieldsV1') throw new BadRequestError(`${where}.fieldsType must be FieldsV1`);
      let fields: FieldSet;
      try {
        fields = fromFieldsV1(e.fieldsV1 ?? {});
      } catch (cause) {
        throw new BadRequestError(`${where}.fieldsV1 is malformed: ${(cause as Error).message}`, { cause });
      }
      return { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion ?? GROUP_VERSION, time: e.time ?? '', subresource: e.subresource ?? '', fields };
    });
}

/** Encodes managers back to managedFields, leaving out those that own nothing (as Kubernetes does). */
export function encodeManagers(managers: readonly Manager[]): ManagedFieldsEntryJson[] {
  return managers
    .filter((m) => m.fields.size > 0)
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(m.fields),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

/** Merges the oldest Update managers past MAX_UPDATE_MANAGERS into one, so the list stays bounded. */
export function capUpdateManagers(managers: Manager[]): Manager[] {
  const updates = managers.filter((m) => m.operation === 'Update' && m.manager !== ANCIENT_CHANGES);
  if (updates.length <= MAX_UPDATE_MANAGERS) return managers;
  const oldest = [...updates].sort((a, b) => a.time.localeCompare(b.time)).slice(0, updates.length - MAX_UPDATE_MANAGERS + 1);
  const ancient = managers.find((m) => m.manager === ANCIENT_CHANGES && m.operation === 'Update');
  const merged: Manager = {
    manager: ANCIENT_CHANGES,
    operation: 'Update',
    apiVersion: GROUP_VERSION,
    time: oldest[oldest.length - 1]!.time,
    subresource: '',
    fields: oldest.reduce((acc, m) => acc.union(m.fields), ancient?.fields ?? new FieldSet()),
  };
  return [merged, ...managers.filter((m) => m !== ancient && !oldest.includes(m))];
}

/**
 * The managers after an Update (create, replace, merge or JSON patch) by `manager` took `before` to
 * `after` through `subresource`: it owns what it changed or added there; the others lose what it
 * changed; a removed field is no one's. `before` undefined is a create. No conflicts: an update always
 * wins, as in Kubernetes.
 */
export function recordUpdate(kind: KindInfo, managers: readonly Manager[], before: ResourceObject | undefined, after: ResourceObject, manager: string, time: string, subresource: Subresource = ''): Manager[] {
  const was = fieldSetOf(kind, before, subresource);
  const now = fieldSetOf(kind, after, subresource);
  const changed = new FieldSet([...now].filter((p) => differsAt(before, after, p)));
  const removed = was.difference(now);
  const out = managers.map((m) => {
    if (sameEntry(m, manager, 'Update', subresource)) return { ...m };
    const fields = new FieldSet(m.fields);
    for (const p of changed) fields.delete(p);
    for (const p of removed) fields.deleteWithin(p);
    return { ...m, fields };
  });
  let mine = out.find((m) => sameEntry(m, manager, 'Update', subresource));
  if (!changed.size && !removed.size) return capUpdateManagers(out);
  if (!mine) out.push((mine = { manager, operation: 'Update', apiVersion: GROUP_VERSION, time, subresource, fields: new FieldSet() }));
  const fields = mine.fields.union(changed);
  for (const p of removed) fields.deleteWithin(p);
  Object.assign(mine, { fields, time });
  return capUpdateManagers(out);
}

/**
 * The managers a write starts from: those the request sends when it sends any (a client may reset them,
 * `[{}]` clears them, as in Kubernetes), else the stored ones.
 */
export function startingManagers(requested: ResourceObject | undefined, stored: ResourceObject | undefined): Manager[] {
  const sent = requested?.metadata?.managedFields as ManagedFieldsEntryJson[] | null | undefined;
  if (sent && sent.length > 0) return decodeManagers(sent);
  return decodeManagers(stored?.metadata?.managedFields as ManagedFieldsEntryJson[] | undefined);
}

/** `obj` with `managers` as its managedFields (left out when none own anything). */
export function withManagers<T extends ResourceObject>(obj: T, managers: readonly Manager[]): T {
  const entries = encodeManagers(managers);
  const { managedFields: _old, ...metadata } = obj.metadata;
  return { ...obj, metadata: { ...metadata, ...(entries.length ? { managedFields: entries as never } : {}) } };
}

/**
 * Whether two objects differ in nothing but the times of their managedFields: a write that would only
 * restamp them is no write (Kubernetes skips such no-op updates too).
 */
export function sameButForTimes(a: ResourceObject, b: ResourceObject): boolean {
  // Through JSON, so a key set to undefined and one left out are the same, as they are once stored.
  const strip = (o: ResourceObject): unknown => JSON.parse(JSON.stringify({ ...o, metadata: { ...o.metadata, managedFields: ((o.metadata.managedFields ?? []) as ManagedFieldsEntryJson[]).map(({ time: _t, ...e }) => e) } }));
  return isDeepStrictEqual(strip(a), strip(b));
}
