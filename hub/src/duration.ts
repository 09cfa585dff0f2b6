// Durations as operators write them ("30m", "1h", "90d"): token lifetimes and retention flags.
const DURATION_RE = /^(\d+)(s|m|h|d)$/;

/** The longest duration: a hundred years, far inside what a Date holds (a ttl of 99999999999d is not one). */
export const MAX_DURATION_DAYS = 36_500;
const MAX_DURATION_MS = MAX_DURATION_DAYS * 86_400_000;

/** Milliseconds, or undefined when `value` is not a whole number followed by s, m, h or d, or is longer than MAX_DURATION_DAYS. */
export function parseDuration(value: string): number | undefined {
  const m = DURATION_RE.exec(value);
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  return ms <= MAX_DURATION_MS ? ms : undefined;
}
