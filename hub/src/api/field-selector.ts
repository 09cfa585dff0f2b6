// `fieldSelector=metadata.name=x,metadata.namespace!=y`: the fields Kubernetes lets every kind select on
// (kubectl wait and informers watching one object send metadata.name). Any other field is refused by
// name rather than ignored: an ignored selector returns everything and reads as if it matched.
import type { ResourceObject } from '@outpost/proto';
import { BadRequestError } from '../errors.js';

const FIELDS = {
  'metadata.name': (o: ResourceObject) => o.metadata.name ?? '',
  'metadata.namespace': (o: ResourceObject) => o.metadata.namespace ?? '',
} as const;

type Field = keyof typeof FIELDS;

export interface FieldTerm {
  field: Field;
  value: string;
  /** `!=` rather than `=` or `==`. */
  negated: boolean;
}

export type FieldSelector = readonly FieldTerm[];

function isField(f: string): f is Field {
  return Object.hasOwn(FIELDS, f);
}

export function parseFieldSelector(raw: string | undefined): FieldSelector | undefined {
  if (!raw) return undefined;
  return raw.split(',').map((term) => {
    const m = /^\s*([^!=\s]+)\s*(==|!=|=)\s*([^,]*?)\s*$/.exec(term);
    if (!m) throw new BadRequestError(`fieldSelector term "${term}" is not field=value, field==value or field!=value`);
    const [, field = '', op, value = ''] = m;
    if (!isField(field)) throw new BadRequestError(`fieldSelector field "${field}" is not supported: select on ${Object.keys(FIELDS).join(' or ')}`);
    return { field, value, negated: op === '!=' };
  });
}

export function matchesFields(selector: FieldSelector | undefined, o: ResourceObject): boolean {
  return !selector || selector.every((t) => (FIELDS[t.field](o) === t.value) !== t.negated);
}
