// A parsed label selector as the store reads it: requirements, all of which an object must meet. The same
// requirement is answered in SQL (lists, so `limit` counts matching objects, not rows read) and in
// JavaScript (watch events, and objects read back from the change log), so both must agree: the tests of
// label-selector.ts run every case through both.
import type { ResourceObject } from '@outpost/proto';

/**
 * `in` (also `=` and `==`): the label is there with one of `values`. `notin` (also `!=`): it is absent
 * or has none of them. `exists` (`key`) and `absent` (`!key`) take no values. As Kubernetes.
 */
export interface LabelRequirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | 'absent';
  values: readonly string[];
}

export type LabelRequirements = readonly LabelRequirement[];

function meets(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'exists':
      return has;
    case 'absent':
      return !has;
    case 'in':
      return has && r.values.includes(labels[r.key]!);
    case 'notin':
      return !has || !r.values.includes(labels[r.key]!);
  }
}

export function matchesRequirements(requirements: LabelRequirements | undefined, o: ResourceObject): boolean {
  const labels = o.metadata.labels ?? {};
  return !requirements || requirements.every((r) => meets(r, labels));
}

/**
 * The requirements as one SQL condition on `objects.body` (or any table's `body` column), with its
 * parameters in order. json_each keeps keys out of JSON paths, so no key needs quoting; the empty
 * list is `1`.
 */
export function requirementsSql(requirements: LabelRequirements | undefined, column = 'body'): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  for (const r of requirements ?? []) {
    const label = `SELECT 1 FROM json_each(${column}, '$.metadata.labels') WHERE key = ?`;
    const inValues = r.values.length ? ` AND value IN (${r.values.map(() => '?').join(', ')})` : '';
    params.push(r.key, ...(r.operator === 'in' || r.operator === 'notin' ? r.values : []));
    if (r.operator === 'exists') parts.push(`EXISTS (${label})`);
    else if (r.operator === 'absent') parts.push(`NOT EXISTS (${label})`);
    else parts.push(`${r.operator === 'in' ? '' : 'NOT '}EXISTS (${label}${inValues})`);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}
