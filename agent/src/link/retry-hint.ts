// A hub that sheds load refuses an agent's upgrade with 503 and Retry-After: how long until it expects
// to have room. The agent waits that long plus up to as long again at random, so a fleet refused in
// the same second comes back spread over the window instead of in one herd, and its own backoff does
// not grow for it (the hub said when; a refusal like this is no sign the hub is unreachable).

/** A hint above this is not believed (a misconfigured proxy); the agent waits this long at most. */
export const MAX_RETRY_AFTER_MS = 300_000;

/** The wait a Retry-After header asks for (delta-seconds or an HTTP-date), capped; undefined if absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  // An HTTP-date names its day and month; anything else (Date.parse reads "-5" as a year) is junk.
  else {
    const at = /^[a-z]{3}, /i.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** The delay before dialling again after a hint of `hintMs`: uniform in [hintMs, 2 * hintMs), at least 100 ms. */
export function hintedDelay(hintMs: number, random: () => number = Math.random): number {
  const base = Math.max(100, hintMs);
  return Math.floor(base * (1 + random()));
}
