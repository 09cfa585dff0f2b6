// Sets of field paths in a resource, as Kubernetes' structured-merge-diff keeps them for managedFields:
// which fields an object sets, read through the proto schema, in the path elements of FieldsV1
// ("f:name" a field or map key, "k:{...}" a list item by its merge key, "v:..." a member of a set).
import { isDeepStrictEqual } from 'node:util';
import { lookupType, type KindInfo, type ResourceObject } from '@outpost/proto';
import type protobuf from 'protobufjs';

/** One step of a path, in FieldsV1's spelling: `f:spec`, `k:{"name":"a"}`, `v:"x"`. */
export type PathElement = string;
export type FieldPath = readonly PathElement[];

/**
 * How a repeated field merges. A list named here merges item by item; every other list is atomic
 * (one value, replaced whole, owned by whoever set it last), as Kubernetes treats a list without
 * x-kubernetes-list-type. Keys are the fields admission already holds unique (pool names) or that name
 * an item (members, addons, artifacts); sets are lists of names where order carries no meaning.
 * In status, every `conditions` list is keyed by type (as Kubernetes' are); other status lists are atomic.
 */
const LIST_TYPES: Readonly<Record<string, { keys: readonly string[] } | 'set'>> = {
  'ObjectMeta.finalizers': 'set',
  'ProjectSpec.members': { keys: ['name'] },
  'ClusterSpec.workers': { keys: ['name'] },
  'ClusterSpec.addons': { keys: ['name'] },
  'ClusterSpec.sshKeys': 'set',
  'WorkerPool.hosts': 'set',
  'ReleaseSpec.artifacts': { keys: ['name'] },
};

/**
 * The metadata fields a manager can own. The rest (name, uid, resourceVersion, ...) are the server's or
 * the object's identity, and Kubernetes leaves them out of managedFields too.
 */
const OWNED_METADATA = new Set(['labels', 'annotations', 'finalizers']);

const CONDITIONS = { keys: ['type'] } as const;

export function listType(type: protobuf.Type, field: string): { keys: readonly string[] } | 'set' | undefined {
  if (field === 'conditions' && type.fields[field]?.type === 'Condition') return CONDITIONS;
  return LIST_TYPES[`${type.name}.${field}`];
}

/** The message type of a field's values, unless they are scalars or free-form JSON. */
export function messageType(field: protobuf.Field): protobuf.Type | undefined {
  const t = field.resolvedType;
  return t && 'fieldsArray' in t && t.fullName !== '.google.protobuf.Struct' ? (t as protobuf.Type) : undefined;
}

export function isMapField(field: protobuf.Field): boolean {
  return 'keyType' in field && field.keyType !== undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function keyElement(item: Record<string, unknown>, keys: readonly string[]): PathElement {
  return `k:${JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k]])))}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${JSON.stringify(value)}`;
}

/** Whether every item of a keyed list has its key and no two share one; else the list is taken whole. */
export function keyedItems(list: readonly unknown[], keys: readonly string[]): Record<string, unknown>[] | undefined {
  const seen = new Set<string>();
  for (const item of list) {
    if (!isObject(item) || keys.some((k) => item[k] === undefined || item[k] === null)) return undefined;
    const k = keyElement(item, keys);
    if (seen.has(k)) return undefined;
    seen.add(k);
  }
  return list as Record<string, unknown>[];
}

/** Whether a set's members are distinct scalars; else the list is taken whole. */
export function setMembers(list: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const v of list) {
    if (v === null || typeof v === 'object') return false;
    const e = valueElement(v);
    if (seen.has(e)) return false;
    seen.add(e);
  }
  return true;
}

/** A set of paths; each path is kept as its JSON so set operations are string operations. */
export class FieldSet {
  private readonly paths = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const p of paths) this.add(p);
  }

  add(path: FieldPath): void {
    this.paths.set(JSON.stringify(path), path);
  }

  has(path: FieldPath): boolean {
    return this.paths.has(JSON.stringify(path));
  }

  delete(path: FieldPath): void {
    this.paths.delete(JSON.stringify(path));
  }

  get size(): number {
    return this.paths.size;
  }

  [Symbol.iterator](): IterableIterator<FieldPath> {
    return this.paths.values();
  }

  /** Whether this set holds `path` or anything under it. */
  hasWithin(path: FieldPath): boolean {
    for (const p of this.paths.values()) if (startsWith(p, path)) return true;
    return false;
  }

  /** Drops `path` and everything under it. */
  deleteWithin(path: FieldPath): void {
    for (const [k, p] of this.paths) if (startsWith(p, path)) this.paths.delete(k);
  }

  union(other: FieldSet): FieldSet {
    return new FieldSet([...this, ...other]);
  }

  difference(other: FieldSet): FieldSet {
    return new FieldSet([...this].filter((p) => !other.has(p)));
  }
}

export function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  return prefix.length <= path.length && prefix.every((e, i) => path[i] === e);
}

function walk(type: protobuf.Type, value: Record<string, unknown>, prefix: FieldPath, out: FieldSet, only?: ReadonlySet<string>): void {
  for (const [key, child] of Object.entries(value)) {
    if (child === null || child === undefined || (only && !only.has(key))) continue;
    const field = type.fields[key];
    const at = [...prefix, `f:${key}`];
    const inner = field ? messageType(field) : undefined;
    if (!field) out.add(at);
    else if (isMapField(field) && isObject(child)) {
      for (const [mk, mv] of Object.entries(child)) {
        if (mv === null || mv === undefined) continue;
        if (inner && isObject(mv)) walk(inner, mv, [...at, `f:${mk}`], out);
        else out.add([...at, `f:${mk}`]);
      }
    } else if (field.repeated && Array.isArray(child)) listPaths(type, key, inner, child, at, out);
    else if (inner && isObject(child)) walk(inner, child, at, out);
    else out.add(at);
  }
}

function listPaths(type: protobuf.Type, key: string, inner: protobuf.Type | undefined, list: unknown[], at: FieldPath, out: FieldSet): void {
  const lt = listType(type, key);
  const items = lt && lt !== 'set' ? keyedItems(list, lt.keys) : undefined;
  if (lt === 'set' && setMembers(list)) for (const v of list) out.add([...at, valueElement(v)]);
  else if (lt && lt !== 'set' && items && inner) {
    for (const item of items) {
      const itemPath = [...at, keyElement(item, lt.keys)];
      out.add(itemPath);
      walk(inner, item, itemPath, out);
    }
  } else out.add(at);
}

/**
 * Which part of an object a write is to: the main resource (metadata's owned fields and spec) or its
 * /status. Each is owned by the managers that write it there, as Kubernetes keeps them apart.
 */
export type Subresource = '' | 'status';

/**
 * The fields an object sets that a manager of `subresource` can own: for the main resource metadata's
 * labels, annotations and finalizers, and spec; for /status, status.
 */
export function fieldSetOf(kind: KindInfo, obj: Partial<ResourceObject> | undefined, subresource: Subresource = ''): FieldSet {
  const out = new FieldSet();
  if (!obj) return out;
  const type = lookupType(kind.kind);
  if (subresource === 'status') {
    if (isObject(obj.status)) walk(type, { status: obj.status }, [], out);
    return out;
  }
  if (isObject(obj.metadata)) walk(lookupType('ObjectMeta'), obj.metadata, ['f:metadata'], out, OWNED_METADATA);
  if (isObject(obj.spec)) walk(type, { spec: obj.spec }, [], out);
  return out;
}

/** What a path reads in `obj`: a field's value, or for a list item or set member whether it is there. */
export function valueAt(obj: unknown, path: FieldPath): { found: boolean; value?: unknown } {
  let here: unknown = obj;
  for (const e of path) {
    if (e.startsWith('f:')) {
      if (!isObject(here) || !(e.slice(2) in here) || here[e.slice(2)] === null) return { found: false };
      here = here[e.slice(2)];
    } else if (e.startsWith('k:')) {
      const key = JSON.parse(e.slice(2)) as Record<string, unknown>;
      if (!Array.isArray(here)) return { found: false };
      here = here.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => isDeepStrictEqual(item[k], v)));
      if (here === undefined) return { found: false };
    } else if (e.startsWith('v:')) {
      const v = JSON.parse(e.slice(2)) as unknown;
      if (!Array.isArray(here) || !here.some((m) => isDeepStrictEqual(m, v))) return { found: false };
      here = v;
    } else return { found: false };
  }
  return { found: true, value: here };
}

/** Whether `path` reads differently in `a` and `b`. A list item or set member differs only by being there. */
export function differsAt(a: unknown, b: unknown, path: FieldPath): boolean {
  const x = valueAt(a, path);
  const y = valueAt(b, path);
  if (x.found !== y.found) return true;
  const last = path[path.length - 1] ?? '';
  return !last.startsWith('k:') && !last.startsWith('v:') && !isDeepStrictEqual(x.value, y.value);
}

/** Removes what `path` names from `obj` in place (a field, a list item, a set member); absent is fine. */
export function removeAt(obj: unknown, path: FieldPath): void {
  const parent = path.length > 1 ? valueAt(obj, path.slice(0, -1)) : { found: true, value: obj };
  const last = path[path.length - 1];
  if (!parent.found || last === undefined) return;
  const here = parent.value;
  if (last.startsWith('f:') && isObject(here)) delete here[last.slice(2)];
  else if (Array.isArray(here)) {
    const i = here.findIndex((item) => {
      const probe = valueAt([item], [last]);
      return probe.found;
    });
    if (i >= 0) here.splice(i, 1);
  }
}

/** A path as Kubernetes prints it in a conflict: `.spec.workers[name="a"].hosts[="h1"]`. */
export function pathString(path: FieldPath): string {
  return path
    .map((e) => {
      if (e.startsWith('f:')) return `.${e.slice(2)}`;
      if (e.startsWith('k:')) {
        const key = JSON.parse(e.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      if (e.startsWith('v:')) return `[=${e.slice(2)}]`;
      return e;
    })
    .join('');
}

/** A FieldsV1 trie: each path element a key; "." marks a node that is itself a member and has children. */
export type FieldsV1 = { [element: string]: FieldsV1 };

export function toFieldsV1(set: FieldSet): FieldsV1 {
  interface Node { member: boolean; children: Map<string, Node> }
  const root: Node = { member: false, children: new Map() };
  for (const path of set) {
    let node = root;
    for (const e of path) {
      let next = node.children.get(e);
      if (!next) node.children.set(e, (next = { member: false, children: new Map() }));
      node = next;
    }
    node.member = true;
  }
  const encode = (node: Node): FieldsV1 => {
    const out: FieldsV1 = {};
    if (node.member && node.children.size) out['.'] = {};
    for (const k of [...node.children.keys()].sort()) out[k] = encode(node.children.get(k)!);
    return out;
  };
  return encode(root);
}

/** The set a FieldsV1 trie holds; throws with the offending element when it is not one. */
export function fromFieldsV1(trie: unknown): FieldSet {
  const out = new FieldSet();
  const decode = (node: unknown, at: PathElement[]): void => {
    if (!isObject(node)) throw new Error(`${at.length ? pathString(at) : 'fieldsV1'} must be an object`);
    const keys = Object.keys(node).filter((k) => k !== '.');
    if (at.length && (keys.length === 0 || '.' in node)) out.add(at);
    for (const k of keys) {
      if (!/^[fkv]:/.test(k)) throw new Error(`"${k}" is not a FieldsV1 path element (f:<name>, k:<key>, v:<value>)`);
      if (k[0] !== 'f') JSON.parse(k.slice(2));
      decode(node[k], [...at, k]);
    }
  };
  decode(trie, []);
  return out;
}
