// Whether a Status an agent sent is a well-formed report of its object's kind: the kind is one agents
// report, the kind's own field of the `status` oneof carries it (never another kind's), and that message
// fits the kind's status type, down to its conditions. Every problem is named by its field, so the
// Error the agent gets (and its operator reads in the agent's log) says what to fix.
import { SchemaError, type FieldProblem } from '../errors.js';
import { lookupType } from '../reflection.js';
import { pb, type Condition, type Status, type StatusField } from '../schema.js';
import { parseRfc3339 } from '../common/timestamps.js';
import { checkMessage } from '../validate-shape.js';
import { REPORTABLE_KINDS, reportableKind, type ReportableKind, type StatusTypes } from './reportable-kinds.js';

/** A report that passed checkReportedStatus: its kind's row and its status message in JSON form. */
export interface ReportedStatus<F extends StatusField = StatusField> {
  kind: ReportableKind & { field: F };
  body: StatusTypes[F];
}

const TO_JSON: Parameters<typeof pb.Status.toObject>[1] = { longs: Number, enums: String, defaults: false, arrays: false, objects: false, oneofs: false };
const CONDITION_STATUSES = ['True', 'False', 'Unknown'];

/**
 * The JSON form of a Status: a decoded message is turned into one; a plain object (a Status that crossed
 * the hub's process boundary, or was read from a status bundle) is taken as it is, so fields the schema
 * lacks are still seen and refused rather than silently dropped.
 */
function statusJson(status: Status | unknown): unknown {
  if (status instanceof pb.Status) return pb.Status.toObject(status, TO_JSON);
  if (status && typeof status === 'object' && 'status' in status) {
    // The oneof's virtual name (`status: "host"`) is allowed in the typed form; it names no data.
    const { status: _which, ...rest } = status as Record<string, unknown>;
    return rest;
  }
  return status;
}

function checkConditions(conditions: unknown, at: string, out: FieldProblem[]): void {
  if (!Array.isArray(conditions)) return;
  const seen = new Set<string>();
  (conditions as Condition[]).forEach((c, i) => {
    const path = `${at}.conditions[${i}]`;
    if (!c || typeof c !== 'object') return;
    if (!c.type) out.push({ field: `${path}.type`, message: 'is required (the condition type, e.g. "Ready")' });
    else if (seen.has(c.type)) out.push({ field: `${path}.type`, message: `${JSON.stringify(c.type)} appears more than once; send one condition per type` });
    else seen.add(c.type);
    if (typeof c.status === 'string' && !CONDITION_STATUSES.includes(c.status)) {
      out.push({ field: `${path}.status`, message: `must be True, False or Unknown, not ${JSON.stringify(c.status)}` });
    }
    if (typeof c.lastTransitionTime === 'string' && c.lastTransitionTime && !parseRfc3339(c.lastTransitionTime)) {
      out.push({ field: `${path}.lastTransitionTime`, message: `must be an RFC 3339 time such as "2025-01-02T03:04:05Z", not ${JSON.stringify(c.lastTransitionTime)}` });
    }
  });
}

/** Checks a reported Status; returns its kind and status message, or throws SchemaError naming each problem. */
export function checkReportedStatus(status: Status | unknown): ReportedStatus {
  const json = statusJson(status);
  const problems: FieldProblem[] = [];
  checkMessage(lookupType('Status'), json, '', problems);
  if (problems.length > 0 || !json || typeof json !== 'object') throw new SchemaError(problems);
  const s = json as Record<string, unknown> & { ref?: { kind?: string } };
  const kindName = s.ref?.kind ?? '';
  const kind = reportableKind(kindName);
  const sent = REPORTABLE_KINDS.filter((r) => s[r.field] != null);
  if (!kind) {
    const known = REPORTABLE_KINDS.map((r) => r.kind).join(', ');
    throw new SchemaError([{ field: 'ref.kind', message: `${kindName ? `${kindName} status is kept by the hub` : 'is required'}; agents report status for ${known} only` }]);
  }
  for (const other of sent) {
    if (other.field === kind.field) continue;
    problems.push({ field: other.field, message: `carries a ${other.type}, which is a ${other.kind}'s status; a ${kind.kind}'s status goes in field ${kind.field} (${kind.type})` });
  }
  const body = s[kind.field];
  if (body == null) {
    problems.push({ field: kind.field, message: `is missing: a ${kind.kind}'s status goes in field ${kind.field} (${kind.type}); an agent older than the typed Status sends its fields elsewhere, so upgrade it` });
  } else checkConditions((body as { conditions?: unknown }).conditions, kind.field, problems);
  if (problems.length > 0) throw new SchemaError(problems);
  return { kind, body: body as StatusTypes[StatusField] } as ReportedStatus;
}
