// Which cached artifacts to delete to make room: first those no current Cluster's Release uses, least
// recently used first; then, only if that is not enough, those in use, least recently used first. Pure.

export interface CachedEntry {
  digest: string;
  size: number;
  /** When a reconciler last asked for it (ms). */
  lastUsedMs: number;
}

/**
 * The digests to evict so that `incoming` more bytes fit under `limit`; `keep` (the one being added, and
 * any a reconciler holds open) is never chosen. Returns what it can when even all of it is not enough.
 */
export function chooseEvictions(entries: readonly CachedEntry[], inUse: ReadonlySet<string>, incoming: number, limit: number, keep: ReadonlySet<string> = new Set()): string[] {
  let total = entries.reduce((n, e) => n + e.size, 0) + incoming;
  if (total <= limit) return [];
  const byAge = (a: CachedEntry, b: CachedEntry): number => a.lastUsedMs - b.lastUsedMs || a.digest.localeCompare(b.digest);
  const candidates = entries.filter((e) => !keep.has(e.digest));
  const order = [...candidates.filter((e) => !inUse.has(e.digest)).sort(byAge), ...candidates.filter((e) => inUse.has(e.digest)).sort(byAge)];
  const out: string[] = [];
  for (const e of order) {
    if (total <= limit) break;
    out.push(e.digest);
    total -= e.size;
  }
  return out;
}
