// Stamps the conditions of a reconciler's report with when they changed, here, where the change is
// observed: the hub keeps these times, so a status that reaches it late (after a reconnect, or in a
// status bundle carried back from an air-gapped site) still says when things happened. A condition whose
// status is what the object's last report said keeps that report's time.
import { statusFieldOf, withTransitionTime, type Condition } from '@outpost/proto';
import type { StatusReport } from '../state/local-state.js';

function conditionsOf(report: StatusReport | undefined): readonly Condition[] {
  if (!report) return [];
  const field = statusFieldOf(report);
  return (field && report[field]?.conditions) || [];
}

/** `next` with every condition's lastTransitionTime set against `previous`, the object's last report. */
export function stampReport(previous: StatusReport | undefined, next: StatusReport, now: Date = new Date()): StatusReport {
  const field = statusFieldOf(next);
  const body = field && next[field];
  if (!field || !body?.conditions?.length) return next;
  const before = conditionsOf(previous);
  const conditions = body.conditions.map((c) => withTransitionTime(before.find((b) => b.type === c.type), c, now));
  // One field of the oneof replaced by the same field: still the same member of the KindStatus union.
  return { ...next, [field]: { ...body, conditions } } as StatusReport;
}
