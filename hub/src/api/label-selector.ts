// `labelSelector=k=v,k2=v2`: equality terms, as lists and watches take them.
import type { ResourceObject } from '@outpost/proto';
import { BadRequestError } from '../errors.js';

export type LabelSelector = Readonly<Record<string, string>>;

export function parseLabelSelector(raw: string | undefined): LabelSelector | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const term of raw.split(',')) {
    const [k, v, extra] = term.split('=');
    if (!k || v === undefined || extra !== undefined) throw new BadRequestError(`labelSelector term "${term}" is not key=value`);
    out[k.trim()] = v.trim();
  }
  return out;
}

export function matchesLabels(selector: LabelSelector | undefined, o: ResourceObject): boolean {
  return !selector || Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v);
}
