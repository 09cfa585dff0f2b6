// Which object: kind, project (empty for cluster-scoped kinds) and name. The hub's store and views and
// the agent's local state key objects by it; the wire carries it as ObjectRef.
import type { ObjectRef, ResourceObject } from '../schema.js';

export interface ObjectKey {
  kind: string;
  /** The project; '' for cluster-scoped kinds. */
  namespace: string;
  name: string;
}

export function keyOf(o: ResourceObject): ObjectKey {
  return { kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' };
}

/** The key a wire ObjectRef names (its absent fields are empty). */
export function keyOfRef(ref: ObjectRef | null | undefined): ObjectKey {
  return { kind: ref?.kind ?? '', namespace: ref?.namespace ?? '', name: ref?.name ?? '' };
}

/** "kind/namespace/name", for maps and sets: unique because none of the three contains '/'. */
export function keyString(k: ObjectKey): string {
  return `${k.kind}/${k.namespace}/${k.name}`;
}

/** The key a keyString names: its inverse, for queues and logs that carry keys as strings. */
export function keyFromString(s: string): ObjectKey {
  const [kind = '', namespace = '', name = '', ...rest] = s.split('/');
  if (rest.length > 0 || !kind || !name) throw new RangeError(`"${s}" is not an object key (kind/namespace/name)`);
  return { kind, namespace, name };
}
