// What this agent reports of each object. Several reconcilers' reports of one object merge into one status;
// reports made in one burst (a flow's Processing, then Succeeded) leave as one; and a status equal to the one
// last sent is not sent again, so a resync costs the hub no revision per object. A condition keeps the time
// it last changed: lastTransitionTime is stamped here, where the change is observed. What was last sent
// is read back from the local state, so neither survives only in memory.
import { isDeepStrictEqual } from 'node:util';
import { reportableKind, setCondition, statusFieldOf, type Condition, type StatusField } from '@outpost/proto';
import { keyString, type ObjectKey, type StatusReport } from '../state/local-state.js';
import type { StatusPatch } from './reconciler.js';

/** A status with its update times left out: a flow that ran again to the same end has nothing new to say. */
function comparable(s: StatusPatch | undefined): unknown {
  if (!s?.lastOperation) return s;
  const { lastUpdateTime: _t, ...op } = s.lastOperation;
  return { ...s, lastOperation: op, lastErrors: (s.lastErrors ?? []).map(({ time: _e, ...rest }) => rest) };
}

/** The kind's status message in a report, whichever oneof field carries it. */
function bodyOf(report: StatusReport | undefined): StatusPatch | undefined {
  const field = report && statusFieldOf(report);
  return field ? (report[field] as StatusPatch | undefined) ?? undefined : undefined;
}

/** The kind's status in its oneof field; a field added to the oneof makes this switch fail to compile. */
function reportOf(ref: NonNullable<StatusReport['ref']>, field: StatusField, body: StatusPatch): StatusReport {
  switch (field) {
    case 'cluster':
      return { ref, cluster: body };
    case 'host':
      return { ref, host: body };
  }
}

interface Entry {
  key: ObjectKey;
  current: StatusPatch;
  sent: StatusPatch | undefined;
}

export class StatusBook {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();

  /** `lastReported`: what the agent last queued for an object, kept in its local state across restarts. */
  constructor(
    private readonly lastReported: (key: ObjectKey) => StatusReport | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Merges `patch` into what is known of `key`'s status; drain() then says whether it is worth sending. */
  merge(key: ObjectKey, patch: StatusPatch): void {
    const k = keyString(key);
    let entry = this.entries.get(k);
    if (!entry) {
      const last = bodyOf(this.lastReported(key));
      entry = { key, current: last ?? {}, sent: last };
      this.entries.set(k, entry);
    }
    const next: StatusPatch = { ...entry.current, ...patch };
    if (patch.conditions) {
      let conditions: Condition[] = [...(entry.current.conditions ?? [])];
      for (const c of patch.conditions) conditions = setCondition(conditions, c, this.now());
      next.conditions = conditions;
    }
    entry.current = next;
    this.dirty.add(k);
  }

  /** The reports that changed since they were last sent; they count as sent from now on. */
  drain(): Array<{ key: ObjectKey; report: (ref: NonNullable<StatusReport['ref']>) => StatusReport }> {
    const out: Array<{ key: ObjectKey; report: (ref: NonNullable<StatusReport['ref']>) => StatusReport }> = [];
    for (const k of this.dirty) {
      const entry = this.entries.get(k);
      const field = entry && reportableKind(entry.key.kind)?.field;
      if (!entry || !field || isDeepStrictEqual(comparable(entry.current), comparable(entry.sent))) continue;
      const body = (entry.sent = entry.current);
      out.push({ key: entry.key, report: (ref) => reportOf(ref, field, body) });
    }
    this.dirty.clear();
    return out;
  }

  forget(key: ObjectKey): void {
    const k = keyString(key);
    this.entries.delete(k);
    this.dirty.delete(k);
  }
}
