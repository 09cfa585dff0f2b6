// kubectl-style tables of `outpost get`, from the kinds' printer columns in proto (the admin API answers
// kubectl's Table requests from the same columns, so `kubectl get` and `outpost get` agree): a few
// telling columns per kind, and the priority-1 ones too with -o wide.
import { printerColumns, type ResourceObject } from '@outpost/proto';

export { age } from '@outpost/proto';

type Column = [header: string, value: (o: ResourceObject) => string];

export interface RenderTableOptions {
  /** -o wide: the priority-1 columns too. */
  wide?: boolean;
  /** Leave out the header row (a watch prints it once, then rows as they change). */
  noHeaders?: boolean;
  /** The time ages are counted to. Default now. */
  now?: number;
}

/** The columns of the items' kind, with PROJECT first when `withProject`. */
export function renderTable(items: readonly ResourceObject[], withProject: boolean, opts: RenderTableOptions = {}): string {
  if (items.length === 0) return 'No resources found.';
  const now = opts.now ?? Date.now();
  const shown = printerColumns(items[0]!.kind).filter((c) => opts.wide || c.priority === 0);
  const cols: Column[] = [
    ...(withProject ? ([['PROJECT', (o) => o.metadata.namespace ?? '']] as Column[]) : []),
    ...shown.map((c): Column => [c.name.toUpperCase(), (o) => String(c.cell(o, now))]),
  ];
  const rows = [...(opts.noHeaders ? [] : [cols.map((c) => c[0])]), ...items.map((o) => cols.map((c) => c[1](o)))];
  const widths = cols.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n');
}
