// Conditions merged by type; lastTransitionTime moves only when the status does.
import type { Condition } from '@outpost/proto';

export function setCondition(list: readonly Condition[] | null | undefined, next: Condition, now = new Date()): Condition[] {
  const current = list ?? [];
  const old = current.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const merged = { ...next, lastTransitionTime };
  return old ? current.map((c) => (c.type === next.type ? merged : c)) : [...current, merged];
}

export function sameConditions(a: readonly Condition[] | null | undefined, b: readonly Condition[] | null | undefined): boolean {
  const strip = (l: readonly Condition[] | null | undefined) => JSON.stringify((l ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest));
  return strip(a) === strip(b);
}
