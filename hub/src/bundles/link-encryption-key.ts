// The agent's encryption key as its Hello tells it. The link is authenticated by the agent's credential,
// so what it says is the agent's key now: it replaces the one held whatever a status bundle brought before.
//
// Replay rule (status-import.ts): a status bundle's key is taken only if the bundle was exported no earlier
// than the one that brought the key held (`exported`). A key learned over the link is stamped with the
// hub's time, and at least a second (the stamp's resolution) past the held stamp, so every status bundle
// the agent exported before it said this Hello is `older` and cannot bring back the key it replaced. (An
// agent whose clock runs ahead of the hub's by more than the time between its export and its next connect
// could have that export taken again; its key is then corrected by its next Hello.)
import { rfc3339, x25519PublicKey } from '@outpost/proto';
import type { Store } from '../store/store.js';

export type LinkKeyOutcome = 'new' | 'replaced' | 'unchanged' | 'absent' | 'invalid';

/** Records `pem` as agent `agentId`'s key unless it is held already (no write on every connect). */
export function recordLinkEncryptionKey(store: Store, agentId: string, pem: string, now: Date): LinkKeyOutcome {
  if (!pem) return 'absent';
  const held = store.agentKeys.get(agentId);
  if (held?.publicKeyPem === pem) return 'unchanged';
  try {
    x25519PublicKey(pem);
  } catch {
    // The hub cannot seal to it; the key held (if any) stays, as a status bundle with such a key is refused.
    return 'invalid';
  }
  const stamp = Math.max(now.getTime(), held ? Date.parse(held.exported) + 1000 : 0);
  store.agentKeys.put(agentId, { publicKeyPem: pem, exported: rfc3339(new Date(stamp)), learned: rfc3339(now) });
  return held ? 'replaced' : 'new';
}
