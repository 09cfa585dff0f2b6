// When a token stops being valid. One reading for the API's authentication, the agents' join and
// admission, so a value that one of them cannot read is refused by all of them: a token whose expiry
// does not parse has expired (fail closed), it does not live for ever.
import type { Token } from '@outpost/proto';

/** RFC 3339 as the hub writes it (rfc3339()), with optional fractions and offset. */
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Milliseconds since the epoch, or undefined when `value` is not an RFC 3339 time. */
export function parseExpiry(value: string): number | undefined {
  if (!RFC3339_RE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** True when `token` has an expiry and it has passed at `now`, or it cannot be read. */
export function tokenExpired(token: Token, now: number): boolean {
  const expires = token.spec?.expires;
  if (!expires) return false;
  const ms = parseExpiry(expires);
  return ms === undefined || ms <= now;
}
