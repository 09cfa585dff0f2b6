// Checks a JSON value against a message type of the schema: unknown fields, wrong types, integers out of
// range. Returns every problem with its path, so an operator fixes a manifest in one go.
import type { FieldProblem } from './errors.js';
import { protobuf } from './reflection.js';

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  sint32: [-2147483648, 2147483647],
  sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  fixed32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function checkScalar(type: string, value: unknown, path: string, out: FieldProblem[]): void {
  const range = INT_RANGES[type];
  if (range) {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) out.push({ field: path, message: `must be an integer, not ${describe(value)}` });
    else if (n < range[0] || n > range[1]) out.push({ field: path, message: `must be between ${range[0]} and ${range[1]}, not ${n}` });
    return;
  }
  switch (type) {
    case 'string':
    case 'bytes':
      if (typeof value !== 'string') out.push({ field: path, message: `must be a string, not ${describe(value)}` });
      return;
    case 'bool':
      if (typeof value !== 'boolean') out.push({ field: path, message: `must be true or false, not ${describe(value)}` });
      return;
    case 'double':
    case 'float':
      if (typeof value !== 'number') out.push({ field: path, message: `must be a number, not ${describe(value)}` });
      return;
    default:
      out.push({ field: path, message: `has unsupported type ${type}` });
  }
}

/**
 * google.protobuf.Struct: a JSON object of any content (managedFields' fieldsV1, as Kubernetes has it).
 * Its JSON form is the object itself, not the message's own `fields` map.
 */
export function isFreeFormJson(type: protobuf.ReflectionObject | null): boolean {
  return type?.fullName === '.google.protobuf.Struct';
}

function checkValue(field: protobuf.Field, value: unknown, path: string, out: FieldProblem[]): void {
  const resolved = field.resolvedType;
  if (isFreeFormJson(resolved)) {
    if (typeof value !== 'object' || Array.isArray(value)) out.push({ field: path, message: `must be an object, not ${describe(value)}` });
  } else if (resolved instanceof protobuf.Type) checkMessage(resolved, value, path, out);
  else if (resolved instanceof protobuf.Enum) {
    if (!(typeof value === 'string' && value in resolved.values) && !(typeof value === 'number' && Object.values(resolved.values).includes(value))) {
      out.push({ field: path, message: `must be one of ${Object.keys(resolved.values).join(', ')}` });
    }
  } else checkScalar(field.type, value, path, out);
}

/** Appends to `out` every way `value` fails to be a `type` message in JSON form. Null means absent. */
export function checkMessage(type: protobuf.Type, value: unknown, path: string, out: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.push({ field: path || '(document)', message: `must be an object, not ${describe(value)}` });
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    const at = join(path, key);
    if (!field) {
      out.push({ field: at, message: `unknown field (known fields of ${type.name}: ${Object.keys(type.fields).join(', ')})` });
      continue;
    }
    if (v === null || v === undefined) continue;
    if (field instanceof protobuf.MapField) {
      if (typeof v !== 'object' || Array.isArray(v)) out.push({ field: at, message: `must be a map of key to value, not ${describe(v)}` });
      else for (const [mk, mv] of Object.entries(v)) checkValue(field, mv, `${at}[${JSON.stringify(mk)}]`, out);
    } else if (field.repeated) {
      if (!Array.isArray(v)) out.push({ field: at, message: `must be a list, not ${describe(v)}` });
      else v.forEach((item, i) => checkValue(field, item, `${at}[${i}]`, out));
    } else checkValue(field, v, at, out);
  }
}

/**
 * `value` without the fields `type` does not declare, and where they were: for fieldValidation=Warn and
 * Ignore, which drop unknown fields where Strict refuses them. Only what checkMessage would call unknown
 * is dropped; a value of the wrong type stays, for the shape check to name.
 */
export function dropUnknownFields(type: protobuf.Type, value: unknown, path = ''): { value: unknown; dropped: string[] } {
  const dropped: string[] = [];
  const walk = (t: protobuf.Type, v: unknown, at: string): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(v)) {
      const field = t.fields[key];
      const here = join(at, key);
      if (!field) {
        dropped.push(here);
        continue;
      }
      const resolved = field.resolvedType;
      if (!(resolved instanceof protobuf.Type) || isFreeFormJson(resolved) || child === null || typeof child !== 'object') out[key] = child;
      else if (field instanceof protobuf.MapField) out[key] = Object.fromEntries(Object.entries(child).map(([k, mv]) => [k, walk(resolved, mv, `${here}[${JSON.stringify(k)}]`)]));
      else if (field.repeated) out[key] = Array.isArray(child) ? child.map((item, i) => walk(resolved, item, `${here}[${i}]`)) : child;
      else out[key] = walk(resolved, child, here);
    }
    return out;
  };
  return { value: walk(type, value, path), dropped };
}
