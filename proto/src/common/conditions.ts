// Conditions merged by type, for hub and agent alike. A condition's lastTransitionTime is when its status
// last changed, stamped where that change was observed: a time the condition already carries is kept
// (an agent's observation that reaches the hub late stays true to when it happened); one without a time
// keeps the previous time while its status stays, and gets `now` when the status moves.
import type { Condition } from '../schema.js';
import { rfc3339 } from './timestamps.js';

/** `next` with its lastTransitionTime filled in against `previous` (the same type's last known state). */
export function withTransitionTime(previous: Condition | undefined, next: Condition, now: Date = new Date()): Condition {
  if (next.lastTransitionTime) return next;
  const kept = previous && previous.status === next.status && previous.lastTransitionTime;
  return { ...next, lastTransitionTime: kept || rfc3339(now) };
}

/** `list` with `next` in place of the condition of its type (appended when there is none). */
export function setCondition(list: readonly Condition[] | null | undefined, next: Condition, now: Date = new Date()): Condition[] {
  const current = list ?? [];
  const old = current.find((c) => c.type === next.type);
  const merged = withTransitionTime(old, next, now);
  return old ? current.map((c) => (c.type === next.type ? merged : c)) : [...current, merged];
}

/** Whether two lists say the same, ignoring transition times (so a controller skips a write that changes nothing). */
export function sameConditions(a: readonly Condition[] | null | undefined, b: readonly Condition[] | null | undefined): boolean {
  const strip = (l: readonly Condition[] | null | undefined) => JSON.stringify((l ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest));
  return strip(a) === strip(b);
}
