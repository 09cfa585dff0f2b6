// The kinds an agent reports status for, and the field of Status's `status` oneof that carries each. One
// table, read by the hub (which field a kind's report must use, which type it must fit) and the agent.
//
// Cluster and Host only. A Seed's or Site's own agent could one day report conditions about the seed or
// site itself (its Kubernetes API reachable, its artifact cache full), but SeedStatus.agent and
// SiteStatus.agent are the hub's to write and no agent observes anything about them yet; adding them is a
// new oneof field (12, 13, ...) and a new row here, which the compiler asks for.
import type { KindName } from '../kinds.js';
import type { Status, StatusField } from '../schema.js';

export interface ReportableKind {
  kind: KindName;
  /** The field of Status's `status` oneof that carries this kind's status. */
  field: StatusField;
  /** The kind's status message type in the schema. */
  type: string;
}

/** Keyed by oneof field, so a field added to the oneof without a row here does not compile. */
const BY_FIELD: { readonly [F in StatusField]: ReportableKind & { field: F } } = {
  cluster: { kind: 'Cluster', field: 'cluster', type: 'ClusterStatus' },
  host: { kind: 'Host', field: 'host', type: 'HostStatus' },
};

export const REPORTABLE_KINDS: readonly ReportableKind[] = Object.values(BY_FIELD);

/** The row of a kind agents report status for, or undefined (its status is the hub's alone). */
export function reportableKind(kind: string): ReportableKind | undefined {
  return REPORTABLE_KINDS.find((r) => r.kind === kind);
}

/** Each oneof field's status message type (`cluster`: ClusterStatus, `host`: HostStatus). */
export type StatusTypes = { [F in StatusField]: NonNullable<Status[F]> };

/** Exactly one kind's status: `{ cluster: ClusterStatus }` or `{ host: HostStatus }`. */
export type KindStatus = { [F in StatusField]: { [K in F]: StatusTypes[F] } & { [K in Exclude<StatusField, F>]?: never } }[StatusField];

/** The oneof field a report sets (the first, should a hand-made one set several). */
export function statusFieldOf(body: Partial<Record<StatusField, object | null>>): StatusField | undefined {
  return REPORTABLE_KINDS.map((r) => r.field).find((f) => body[f] != null);
}
