// Resources between their JSON form (admin API, store, CLI) and their wire form (Resource oneof).
import { SchemaError, type FieldProblem } from './errors.js';
import { type KindInfo, kindInfo, isKindName } from './kinds.js';
import { lookupType } from './reflection.js';
import { pb, type ResourceMessage, type ResourceObject } from './schema.js';
import { checkMessage, dropUnknownFields } from './validate-shape.js';

/** Checks that `value` is a well-formed resource of `kind` in JSON form; throws SchemaError listing every problem. */
export function checkResourceShape(kind: KindInfo, value: unknown): asserts value is ResourceObject {
  const problems: FieldProblem[] = [];
  // checkMessage lets an absent message be (a field left out); a document that is null is no resource.
  if (value === null || value === undefined) problems.push({ field: '(document)', message: `must be an object, not ${value === null ? 'null' : 'nothing'}` });
  else checkMessage(lookupType(kind.kind), value, '', problems);
  if (problems.length > 0) throw new SchemaError(problems);
}

/** `value` without the fields a `kind` does not declare, and their paths (fieldValidation=Warn|Ignore). */
export function dropUnknownResourceFields(kind: KindInfo, value: unknown): { value: unknown; dropped: string[] } {
  return dropUnknownFields(lookupType(kind.kind), value);
}

const TO_OBJECT: Parameters<typeof pb.Resource.toObject>[1] = { longs: Number, enums: String, defaults: false, arrays: false, objects: false };

/**
 * The wire form of a resource; `withStatus: false` leaves status out (views carry desired state only).
 * metadata.managedFields never goes: it says who wrote which field, which no agent acts on, and it
 * would be most of a small object's bytes.
 */
export function resourceToWire(obj: ResourceObject, withStatus = true): ResourceMessage {
  if (!isKindName(obj.kind)) throw new SchemaError([{ field: 'kind', message: `unknown kind ${JSON.stringify(obj.kind)}` }]);
  const { managedFields: _who, ...metadata } = obj.metadata;
  const body = { ...obj, ...(obj.metadata ? { metadata } : {}), ...(withStatus ? {} : { status: undefined }) };
  return pb.Resource.fromObject({ [kindInfo(obj.kind).wireField]: body });
}

/** The JSON form of a wire resource, or undefined when the oneof is empty (a newer hub's unknown kind). */
export function resourceFromWire(msg: ResourceMessage): ResourceObject | undefined {
  const decoded = msg instanceof pb.Resource ? msg : pb.Resource.fromObject(msg);
  const plain = pb.Resource.toObject(decoded, { ...TO_OBJECT, oneofs: true }) as Record<string, unknown> & { kind?: string };
  const field = plain.kind;
  if (!field) return undefined;
  return plain[field] as ResourceObject;
}
