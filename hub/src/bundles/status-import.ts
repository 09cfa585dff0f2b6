// `outpost bundle import-status FILE`: records an agent's status bundle exactly as the gateway records
// Statuses that arrive over the link (applyAgentStatus), after checking it is that agent's (the HMAC keyed
// by its credential's hash) and not one already recorded. The statuses, the recorded seq and the agent's
// acked revision commit in one transaction: a bundle is recorded whole or not at all. The agent's
// encryption key it carries is recorded with them: bundles for the agent then carry its Clusters' CAs.
// An agent that connects tells its key in its Hello too (link-encryption-key.ts, which keeps the rule
// below: a bundle exported before the key held was stamped does not replace it).
import { keyFingerprint, pb, readStatusExport, rfc3339, statusExportMacValid, x25519PublicKey, type Agent, type Status, type StatusExport } from '@outpost/proto';
import { viewOf } from '../auth/agent-identity.js';
import { HubError } from '../errors.js';
import { applyAgentStatus, type StatusRefusal } from '../gateway/agent-status.js';
import type { Store } from '../store/store.js';

export interface StatusImportResult {
  agentId: string;
  /** Statuses recorded (those with a seq above the last recorded one). */
  recorded: number;
  /** Statuses of the bundle recorded before, by an earlier status bundle. */
  skipped: number;
  /** Statuses refused, and why (as the agent is told over the link). */
  refused: StatusRefusal[];
  /** Every status up to this seq of the agent is now recorded: the agent's next bundle says so. */
  statusSeq: number;
  ackedRevision: number;
  /**
   * What became of the agent's encryption key: `new` (first learned), `replaced` (the agent made another),
   * `unchanged`, `older` (this bundle was exported before the one that brought the key held: not taken),
   * `absent` (an agent of a release before encryption keys).
   */
  encryptionKey: 'new' | 'replaced' | 'unchanged' | 'older' | 'absent';
  /** keyFingerprint of the key the hub now holds for the agent, if any. */
  encryptionKeyFingerprint?: string;
}

/** Records the key `e` carries (checked to be X25519 before the transaction); inside the import's transaction. */
function recordEncryptionKey(store: Store, e: StatusExport, now: Date): Pick<StatusImportResult, 'encryptionKey' | 'encryptionKeyFingerprint'> {
  const held = store.agentKeys.get(e.agentId);
  const fingerprintOf = (pem: string): string => keyFingerprint(x25519PublicKey(pem));
  const heldResult = held ? { encryptionKeyFingerprint: fingerprintOf(held.publicKeyPem) } : {};
  if (e.encryptionKey === undefined) return { encryptionKey: 'absent', ...heldResult };
  if (held?.publicKeyPem === e.encryptionKey) return { encryptionKey: 'unchanged', ...heldResult };
  if (held && Date.parse(e.exported) < Date.parse(held.exported)) return { encryptionKey: 'older', ...heldResult };
  store.agentKeys.put(e.agentId, { publicKeyPem: e.encryptionKey, exported: e.exported, learned: rfc3339(now) });
  return { encryptionKey: held ? 'replaced' : 'new', encryptionKeyFingerprint: fingerprintOf(e.encryptionKey) };
}

const forbidden = (message: string): HubError => new HubError(403, 'Forbidden', message);

export function importStatusBundle(store: Store, text: string, now: Date = new Date()): StatusImportResult {
  const e = (() => {
    try {
      return readStatusExport(text);
    } catch (err) {
      throw new HubError(400, 'BadRequest', (err as Error).message);
    }
  })();
  const agent = store.get<Agent>('Agent', '', e.agentId);
  const cred = store.credential(`agent/${e.agentId}`);
  if (!agent || !cred) throw forbidden(`the status bundle is from agent ${e.agentId}, which this hub does not know: it is another hub's, or the agent was deleted; nothing was recorded`);
  if (!statusExportMacValid(e, cred.hash)) throw forbidden(`the status bundle names agent ${e.agentId} but is not signed with that agent's credential (altered, or from another agent); nothing was recorded`);
  if (agent.spec?.revoked) throw forbidden(`agent ${e.agentId} is revoked (a newer agent serves its ${agent.spec.role}); its status bundle was not recorded`);
  const view = viewOf(agent);
  if (e.view !== view) throw forbidden(`the status bundle says view ${e.view}, but agent ${e.agentId} serves ${view}; nothing was recorded`);
  if (e.ackedRevision > store.revision()) throw new HubError(400, 'BadRequest', `the status bundle acks revision ${e.ackedRevision}, past this hub's ${store.revision()}: it is another hub's; nothing was recorded`);
  if (e.encryptionKey !== undefined) {
    try {
      x25519PublicKey(e.encryptionKey);
    } catch (err) {
      throw new HubError(400, 'BadRequest', `the status bundle of agent ${e.agentId} carries an encryption key that is ${(err as Error).message}; nothing was recorded. Export the agent's status again with an agent of this hub's release`);
    }
  }
  return store.transaction(() => {
    const before = store.bundleLedger.statusSeq(e.agentId);
    if (e.statuses.length > 0 && e.lastSeq <= before) {
      throw new HubError(409, 'Conflict', `this status bundle of agent ${e.agentId} (statuses up to seq ${e.lastSeq}) was recorded already (up to seq ${before}): it is a replay; nothing was recorded. Export the agent's status again for newer statuses`);
    }
    let recorded = 0;
    let skipped = 0;
    const refused: StatusRefusal[] = [];
    for (const encoded of e.statuses) {
      let status: Status;
      try {
        status = pb.Status.decode(Buffer.from(encoded, 'base64'));
      } catch (cause) {
        throw new HubError(400, 'BadRequest', `the status bundle holds a status that does not decode (${(cause as Error).message}); nothing was recorded`, [], { cause });
      }
      if (Number(status.seq ?? 0) <= before) {
        skipped++;
        continue;
      }
      const refusal = applyAgentStatus(store, e.agentId, view, status, now);
      if (refusal) refused.push(refusal);
      else recorded++;
    }
    const statusSeq = Math.max(before, e.lastSeq);
    store.bundleLedger.setStatusSeq(e.agentId, statusSeq);
    // As an Ack over the link: the revision the agent holds, in its presence (never a revision of its own).
    const acked = store.presence.get(e.agentId)?.ackedRevision ?? 0;
    if (e.ackedRevision > acked) store.presence.write([[e.agentId, { ackedRevision: e.ackedRevision, lastSeen: rfc3339(now) }]]);
    return { agentId: e.agentId, recorded, skipped, refused, statusSeq, ackedRevision: Math.max(acked, e.ackedRevision), ...recordEncryptionKey(store, e, now) };
  });
}
