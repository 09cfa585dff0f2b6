// The printer columns of each kind, declared once: the admin API answers kubectl's Table requests with
// them (as a CRD's additionalPrinterColumns) and `outpost get` prints them, so both show the same thing.
import type { KindName } from './kinds.js';
import type { Agent, Cluster, Condition, Datacenter, Host, ResourceObject, Seed, Site, SSHKey, Token } from './schema.js';

/** A cell's value: kubectl prints a string as it is and a number or boolean in its JSON form. */
export type PrinterCell = string | number | boolean;

/** One column, in the shape of Kubernetes' TableColumnDefinition plus how to fill it. */
export interface PrinterColumn {
  /** As kube-apiserver names columns ("Name", "Age"); kubectl and `outpost get` print it upper-cased. */
  name: string;
  /** OpenAPI type of the cells. */
  type: 'string' | 'integer' | 'boolean' | 'date';
  /** "name" marks the column that identifies the row, as Kubernetes does. */
  format?: 'name';
  description: string;
  /** 0: shown by default; 1: only with `kubectl get -o wide` (Kubernetes' meaning). */
  priority: 0 | 1;
  cell(o: ResourceObject, now: number): PrinterCell;
}

/** A time as kubectl shows an age: 45s, 12m, 5h, 3d; `<none>` for no time, 0s for one in the future. */
export function age(ts: string | null | undefined, now = Date.now()): string {
  if (!ts) return '<none>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const conditions = (list: readonly Condition[] | null | undefined): string => (list ?? []).map((c) => `${c.type}=${c.status}`).join(',') || '<none>';

type Extra = Omit<PrinterColumn, 'priority'> & { priority?: 0 | 1 };
const column = (name: string, description: string, cell: PrinterColumn['cell'], type: PrinterColumn['type'] = 'string'): Extra => ({ name, description, cell, type });

/** Only with -o wide (kubectl's priority 1). */
const wide = (c: Extra): Extra => ({ ...c, priority: 1 });

const operation = (op: { type?: string | null; state?: string | null; progress?: number | null; step?: string | null } | null | undefined): string =>
  op?.type ? `${op.type} ${op.state ?? ''} ${op.progress ?? 0}%${op.step ? ` (${op.step})` : ''}`.replace(/ {2,}/g, ' ') : '<none>';

const servedBy = (spec: { seed?: string | null; site?: string | null } | null | undefined): string => (spec?.site ? `site/${spec.site}` : spec?.seed ? `seed/${spec.seed}` : '<none>');

const KIND_COLUMNS: Record<KindName, readonly Extra[]> = {
  Project: [],
  Release: [],
  Cluster: [
    column('Version', 'spec.version: the Kubernetes version', (o) => (o as Cluster).spec?.version ?? ''),
    column('Datacenter', 'spec.datacenter: where the cluster is placed', (o) => (o as Cluster).spec?.datacenter ?? ''),
    column('Mode', 'spec.controlPlane.mode: hosted on a seed or kubeadm on site hosts', (o) => (o as Cluster).spec?.controlPlane?.mode ?? ''),
    // As kubectl shows a namespace being deleted: its finalizers are still to be released.
    column('Phase', 'status.phase, or Terminating while finalizers hold a deleted cluster', (o) => (o.metadata.deletionTimestamp ? 'Terminating' : (o as Cluster).status?.phase || '<none>')),
    column('Conditions', 'status.conditions as TYPE=STATUS', (o) => conditions((o as Cluster).status?.conditions)),
    wide(column('Replicas', 'spec.controlPlane.replicas: control-plane members', (o) => String((o as Cluster).spec?.controlPlane?.replicas ?? ''))),
    wide(column('Endpoint', "status.endpoint: the cluster's API server", (o) => (o as Cluster).status?.endpoint || '<none>')),
    wide(column('Operation', 'status.lastOperation: type, state, progress and the step it is on', (o) => operation((o as Cluster).status?.lastOperation))),
  ],
  Agent: [
    column('Role', 'spec.role: seed or site', (o) => (o as Agent).spec?.role ?? ''),
    column('Serves', 'the Seed or Site this agent serves', (o) => ((o as Agent).spec?.seed || (o as Agent).spec?.site) ?? ''),
    column('Connected', 'status.connected: the agent holds a link to the hub now', (o) => (o as Agent).status?.connected ?? false, 'boolean'),
    column('Acked', 'status.ackedRevision: the last revision the agent persisted', (o) => Number((o as Agent).status?.ackedRevision ?? 0), 'integer'),
    column('Version', 'status.version: the agent software version', (o) => (o as Agent).status?.version ?? ''),
    column('Last-Seen', 'status.lastSeen, as an age', (o, now) => age((o as Agent).status?.lastSeen, now)),
    column('Revoked', 'spec.revoked: the credential is refused', (o) => (o as Agent).spec?.revoked ?? false, 'boolean'),
    wide(column('Address', 'status.address: where the agent dialled from', (o) => (o as Agent).status?.address || '<none>')),
    wide(column('Connected-Since', 'status.connectedSince: when its current link came up', (o) => (o as Agent).status?.connectedSince || '<none>')),
  ],
  Site: [
    column('Location', 'spec.location', (o) => (o as Site).spec?.location ?? ''),
    column('Agent', 'status.agent: the agent serving this site', (o) => (o as Site).status?.agent || '<none>'),
  ],
  Seed: [
    column('Location', 'spec.location', (o) => (o as Seed).spec?.location ?? ''),
    column('Agent', 'status.agent: the agent serving this seed', (o) => (o as Seed).status?.agent || '<none>'),
  ],
  Datacenter: [
    column('Provider', 'spec.provider', (o) => (o as Datacenter).spec?.provider ?? ''),
    column('Served-By', 'the Seed or Site serving this datacenter', (o) => servedBy((o as Datacenter).spec)),
  ],
  Host: [
    column('Site', 'spec.site: the site the host is at', (o) => (o as Host).spec?.site ?? ''),
    column('Address', 'spec.address', (o) => (o as Host).spec?.address ?? ''),
    column('Conditions', "status.conditions as TYPE=STATUS: the site agent's SSH check (HostKeyVerified, Reachable, PreflightPassed)", (o) => conditions((o as Host).status?.conditions)),
    wide(column('Cluster', 'status.cluster: the cluster the host serves', (o) => (o as Host).status?.cluster || '<none>')),
    wide(column('Role', 'status.role: control-plane or worker', (o) => (o as Host).status?.role || '<none>')),
  ],
  Token: [
    column('Type', 'spec.type: bootstrap or api', (o) => (o as Token).spec?.type ?? ''),
    column('For', 'the Site or Seed of a bootstrap token; the role and project of an API token', (o) => {
      const s = (o as Token).spec;
      return s?.site ? `site/${s.site}` : s?.seed ? `seed/${s.seed}` : `${s?.role ?? ''}${s?.project ? `@${s.project}` : ''}`;
    }),
    column('Expires', 'spec.expires', (o) => (o as Token).spec?.expires || '<never>'),
    column('Used', 'status.used: a bootstrap token is single use', (o) => (o as Token).status?.used ?? false, 'boolean'),
    wide(column('Agent', 'status.agent: the agent a bootstrap token made', (o) => (o as Token).status?.agent || '<none>')),
    wide(column('Description', 'spec.description: what the token is for', (o) => (o as Token).spec?.description || '<none>')),
  ],
  SSHKey: [column('Fingerprint', 'status.fingerprint: SHA256 of the public key', (o) => (o as SSHKey).status?.fingerprint || '<none>')],
};

const NAME: PrinterColumn = { name: 'Name', type: 'string', format: 'name', priority: 0, description: 'metadata.name', cell: (o) => o.metadata.name ?? '' };
const AGE: PrinterColumn = { name: 'Age', type: 'date', priority: 0, description: 'time since metadata.creationTimestamp', cell: (o, now) => age(o.metadata.creationTimestamp, now) };

const BY_KIND = new Map<string, readonly PrinterColumn[]>(
  Object.entries(KIND_COLUMNS).map(([kind, extra]) => [kind, [NAME, ...extra.map((c) => ({ priority: 0 as const, ...c })), AGE]]),
);

/** The columns of a kind, Name first and Age last (a kind without columns of its own gets those two). */
export function printerColumns(kind: string): readonly PrinterColumn[] {
  return BY_KIND.get(kind) ?? [NAME, AGE];
}
