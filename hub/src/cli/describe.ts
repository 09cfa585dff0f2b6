// `outpost describe`: one object as a person reads it, kubectl describe's way. Metadata first, then spec
// and status as indented "Field Name: value" lines, then what an operator looks for: conditions with their
// times, the last operation and last errors (Cluster), and an Agent's presence. Pure: the command fetches,
// this renders.
import type { Agent, Condition, ResourceObject } from '@outpost/proto';
import { age } from './table.js';

/** controlPlane -> Control Plane, podCidr -> Pod Cidr, sshKeys -> Ssh Keys. */
export function title(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

/** A timestamp with how long ago it was, as kubectl shows creation times. */
export function when(ts: string | null | undefined, now = Date.now()): string {
  return ts ? `${ts} (${age(ts, now)} ago)` : '<none>';
}

type Json = string | number | boolean | null | undefined | Json[] | { [k: string]: Json };

const isObject = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: Json): boolean => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
const scalar = (v: Json): string => (isEmpty(v) ? '<none>' : String(v));

/** Lines for an object's fields at `indent`: scalars aligned in one column, nested objects and lists below their key. */
function fields(o: { [k: string]: Json }, indent: string): string[] {
  const entries = Object.entries(o);
  const flat = (v: Json): boolean => isEmpty(v) || !(typeof v === 'object') || (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null));
  const width = Math.max(0, ...entries.filter(([, v]) => flat(v)).map(([k]) => title(k).length + 1));
  const out: string[] = [];
  for (const [k, v] of entries) {
    const key = `${title(k)}:`;
    if (flat(v)) {
      out.push(`${indent}${key.padEnd(width)}  ${Array.isArray(v) && v.length ? v.join(', ') : scalar(v)}`);
    } else if (Array.isArray(v)) {
      out.push(`${indent}${key}`);
      for (const item of v) {
        const lines = isObject(item) ? fields(item, `${indent}    `) : [`${indent}    ${scalar(item)}`];
        out.push(...lines.map((l, i) => (i === 0 ? `${indent}  - ${l.slice(indent.length + 4)}` : l)));
      }
    } else if (isObject(v)) {
      out.push(`${indent}${key}`, ...fields(v, `${indent}  `));
    }
  }
  return out;
}

/** A block of rows under a header, padded into columns (kubectl describe's conditions table). */
function columns(header: string[], rows: string[][], indent: string): string[] {
  const all = [header, header.map((h) => '-'.repeat(h.length)), ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('')}`.trimEnd());
}

function labelLines(name: string, m: Record<string, string> | null | undefined, width: number): string[] {
  const pairs = Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`);
  if (pairs.length === 0) return [`${name.padEnd(width)}<none>`];
  return pairs.map((p, i) => `${(i === 0 ? name : '').padEnd(width)}${p}`);
}

/** Status fields shown in sections of their own, not among the plain fields. */
const SECTIONED = new Set(['conditions', 'lastOperation', 'lastErrors']);
/** An Agent's presence fields: live, never revisioned, shown as Presence. */
const PRESENCE = ['connected', 'connectedSince', 'lastSeen', 'address', 'ackedRevision', 'version'] as const;

export function renderDescribe(obj: ResourceObject, now = Date.now()): string {
  const m = obj.metadata;
  const W = 'Resource Version:  '.length;
  const line = (k: string, v: string): string => `${`${k}:`.padEnd(W)}${v}`;
  const out: string[] = [line('Name', m.name ?? '')];
  if (m.namespace) out.push(line('Project', m.namespace));
  out.push(line('Kind', obj.kind), line('API Version', obj.apiVersion));
  out.push(...labelLines('Labels:', m.labels, W), ...labelLines('Annotations:', m.annotations, W));
  out.push(line('UID', m.uid || '<none>'), line('Resource Version', m.resourceVersion || '<none>'), line('Generation', String(m.generation ?? '<none>')));
  out.push(line('Created', when(m.creationTimestamp, now)));
  if (m.deletionTimestamp) out.push(line('Deleting', `${when(m.deletionTimestamp, now)}, waiting for ${m.finalizers?.length ? m.finalizers.join(', ') : 'nothing'}`));
  out.push(line('Finalizers', m.finalizers?.length ? m.finalizers.join(', ') : '<none>'));

  const spec = JSON.parse(JSON.stringify(obj.spec ?? {})) as { [k: string]: Json };
  out.push('Spec:', ...(isEmpty(spec) ? ['  <none>'] : fields(spec, '  ')));

  const status = JSON.parse(JSON.stringify(obj.status ?? {})) as { [k: string]: Json };
  delete status.token; // a Token's secret is never on a read, and never printed if it were
  if (obj.kind === 'Agent') for (const k of PRESENCE) delete status[k];
  const plain = Object.fromEntries(Object.entries(status).filter(([k]) => !SECTIONED.has(k)));
  out.push('Status:', ...(isEmpty(plain) ? ['  <none>'] : fields(plain, '  ')));

  if (obj.kind === 'Agent') {
    const a = (obj as Agent).status;
    out.push('Presence:');
    out.push(
      ...fields(
        {
          connected: a?.connected ?? false,
          connectedSince: a?.connectedSince ? when(a.connectedSince, now) : '',
          lastSeen: a?.lastSeen ? when(a.lastSeen, now) : '',
          address: a?.address ?? '',
          ackedRevision: a?.ackedRevision ?? 0,
          version: a?.version ?? '',
        },
        '  ',
      ),
    );
  }

  const conds = (status.conditions ?? []) as unknown as Condition[];
  out.push('Conditions:');
  if (conds.length === 0) out.push('  <none>');
  else out.push(...columns(['Type', 'Status', 'Reason', 'Last Transition', 'Message'], conds.map((c) => [c.type ?? '', c.status ?? '', c.reason || '', c.lastTransitionTime ? when(c.lastTransitionTime, now) : '', c.message || '']), '  '));

  // A Cluster always says where its work stands, even before its agent has reported any.
  const op = status.lastOperation;
  const errors = Array.isArray(status.lastErrors) ? (status.lastErrors as unknown as Array<{ step?: string; host?: string; message?: string; time?: string }>) : undefined;
  const operations = obj.kind === 'Cluster' || isObject(op) || errors !== undefined;
  if (operations) {
    out.push('Last Operation:');
    if (!isObject(op)) out.push('  <none>');
    else {
      const o = op as { type?: string; state?: string; progress?: number; step?: string; lastUpdateTime?: string };
      out.push(...fields({ type: o.type ?? '', state: o.state ?? '', progress: `${o.progress ?? 0}%`, step: o.step ?? '', updated: when(o.lastUpdateTime, now) }, '  '));
    }
  }
  if (operations) {
    out.push('Last Errors:');
    if (!errors?.length) out.push('  <none>');
    else out.push(...columns(['Step', 'Host', 'Time', 'Message'], errors.map((e) => [e.step || '', e.host || '', e.time ? when(e.time, now) : '', e.message || '']), '  '));
  }
  return `${out.join('\n')}\n`;
}
