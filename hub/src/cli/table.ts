// kubectl-style tables: a few telling columns per kind, and more with -o wide.
import type { Agent, Cluster, Condition, Datacenter, Host, ResourceObject, SSHKey, Site, Token } from '@outpost/proto';

/**
 * One printer column. Priority as Kubernetes' TableColumnDefinition has it: 0 (or left out) is always
 * shown, 1 only with -o wide; so each kind's columns stay one list, in the order they print.
 */
type Column = [header: string, value: (o: ResourceObject) => string, priority?: number];

export interface RenderTableOptions {
  /** -o wide: the priority-1 columns too. */
  wide?: boolean;
  /** Leave out the header row (a watch prints it once, then rows as they change). */
  noHeaders?: boolean;
}

export function age(ts: string | null | undefined, now = Date.now()): string {
  if (!ts) return '<none>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const conditions = (list: readonly Condition[] | null | undefined): string => (list ?? []).map((c) => `${c.type}=${c.status}`).join(',') || '<none>';

const operation = (op: { type?: string | null; state?: string | null; progress?: number | null; step?: string | null } | null | undefined): string =>
  op?.type ? `${op.type} ${op.state ?? ''} ${op.progress ?? 0}%${op.step ? ` (${op.step})` : ''}`.replace(/ {2,}/g, ' ') : '<none>';

const COLUMNS: Record<string, Column[]> = {
  Cluster: [
    ['VERSION', (o) => (o as Cluster).spec?.version ?? ''],
    ['DATACENTER', (o) => (o as Cluster).spec?.datacenter ?? ''],
    ['MODE', (o) => (o as Cluster).spec?.controlPlane?.mode ?? ''],
    // As kubectl shows a namespace being deleted: its finalizers are still to be released.
    ['PHASE', (o) => (o.metadata.deletionTimestamp ? 'Terminating' : (o as Cluster).status?.phase || '<none>')],
    ['CONDITIONS', (o) => conditions((o as Cluster).status?.conditions)],
    ['REPLICAS', (o) => String((o as Cluster).spec?.controlPlane?.replicas ?? ''), 1],
    ['ENDPOINT', (o) => (o as Cluster).status?.endpoint || '<none>', 1],
    ['OPERATION', (o) => operation((o as Cluster).status?.lastOperation), 1],
  ],
  Agent: [
    ['ROLE', (o) => (o as Agent).spec?.role ?? ''],
    ['SERVES', (o) => ((o as Agent).spec?.seed || (o as Agent).spec?.site) ?? ''],
    ['CONNECTED', (o) => String((o as Agent).status?.connected ?? false)],
    ['ACKED', (o) => String((o as Agent).status?.ackedRevision ?? 0)],
    ['VERSION', (o) => (o as Agent).status?.version ?? ''],
    ['LAST-SEEN', (o) => age((o as Agent).status?.lastSeen)],
    ['REVOKED', (o) => String((o as Agent).spec?.revoked ?? false)],
    ['ADDRESS', (o) => (o as Agent).status?.address || '<none>', 1],
    ['CONNECTED-SINCE', (o) => (o as Agent).status?.connectedSince || '<none>', 1],
  ],
  Site: [
    ['LOCATION', (o) => (o as Site).spec?.location ?? ''],
    ['AGENT', (o) => (o as Site).status?.agent || '<none>'],
  ],
  Seed: [
    ['LOCATION', (o) => (o as Site).spec?.location ?? ''],
    ['AGENT', (o) => (o as Site).status?.agent || '<none>'],
  ],
  Datacenter: [
    ['PROVIDER', (o) => (o as Datacenter).spec?.provider ?? ''],
    ['SERVED-BY', (o) => ((o as Datacenter).spec?.site ? `site/${(o as Datacenter).spec?.site}` : `seed/${(o as Datacenter).spec?.seed}`)],
  ],
  Host: [
    ['SITE', (o) => (o as Host).spec?.site ?? ''],
    ['ADDRESS', (o) => (o as Host).spec?.address ?? ''],
    ['CLUSTER', (o) => (o as Host).status?.cluster || '<none>', 1],
    ['ROLE', (o) => (o as Host).status?.role || '<none>', 1],
  ],
  Token: [
    ['TYPE', (o) => (o as Token).spec?.type ?? ''],
    ['FOR', (o) => { const s = (o as Token).spec; return s?.site ? `site/${s.site}` : s?.seed ? `seed/${s.seed}` : `${s?.role ?? ''}${s?.project ? `@${s.project}` : ''}`; }],
    ['EXPIRES', (o) => (o as Token).spec?.expires || '<never>'],
    ['USED', (o) => String((o as Token).status?.used ?? false)],
    ['AGENT', (o) => (o as Token).status?.agent || '<none>', 1],
    ['DESCRIPTION', (o) => (o as Token).spec?.description || '<none>', 1],
  ],
  SSHKey: [['FINGERPRINT', (o) => (o as SSHKey).status?.fingerprint || '<none>']],
};

export function renderTable(items: readonly ResourceObject[], withProject: boolean, opts: RenderTableOptions = {}): string {
  if (items.length === 0) return 'No resources found.';
  const kind = items[0]!.kind;
  const perKind = (COLUMNS[kind] ?? []).filter((c) => opts.wide || !c[2]);
  const cols: Column[] = [
    ...(withProject ? ([['PROJECT', (o) => o.metadata.namespace ?? '']] as Column[]) : []),
    ['NAME', (o) => o.metadata.name ?? ''],
    ...perKind,
    ['AGE', (o) => age(o.metadata.creationTimestamp)],
  ];
  const rows = [...(opts.noHeaders ? [] : [cols.map((c) => c[0])]), ...items.map((o) => cols.map((c) => c[1](o)))];
  const widths = cols.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n');
}
