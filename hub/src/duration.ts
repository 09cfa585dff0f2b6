// Durations as operators write them ("30m", "1h", "90d"): token lifetimes and retention flags.
const DURATION_RE = /^(\d+)(s|m|h|d)$/;

/** Milliseconds, or undefined when `value` is not a whole number followed by s, m, h or d. */
export function parseDuration(value: string): number | undefined {
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
