// `outpost bundle import-status FILE`: records an agent's status bundle exactly as the gateway records
// Statuses that arrive over the link (applyAgentStatus), after checking it is that agent's (the HMAC keyed
// by its credential's hash) and not one already recorded. The statuses, the recorded seq and the agent's
// acked revision commit in one transaction: a bundle is recorded whole or not at all.
import { pb, readStatusExport, rfc3339, statusExportMacValid, type Agent, type Status } from '@outpost/proto';
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
    return { agentId: e.agentId, recorded, skipped, refused, statusSeq, ackedRevision: Math.max(acked, e.ackedRevision) };
  });
}
