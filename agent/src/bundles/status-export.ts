// `outpost-agent bundle export-status`: the agent's outbox (statuses the hub has not acknowledged) and the
// revision it holds, for a site with no network to carry to the hub (`outpost bundle import-status`), and
// the public half of its encryption key, which the hub seals the site's cluster CAs to from then on. The
// outbox is not cleared here: only once the agent learns the hub recorded them (the statusSeq of its
// next bundle, or an Ack online), so nothing is lost if the file never arrives.
import { renameSync, writeFileSync } from 'node:fs';
import { credentialMacKey, pb, rfc3339, signStatusExport, STATUS_EXPORT_FORMAT, STATUS_EXPORT_KIND, type StatusExport } from '@outpost/proto';
import { ensureEncryptionKey } from '../encryption-key.js';
import { loadIdentity, statePath } from '../identity.js';
import { SqliteLocalState } from '../state/sqlite-local-state.js';

export function exportStatus(dataDir: string, output: string, now: Date = new Date()): StatusExport {
  const identity = loadIdentity(dataDir);
  // On first need (an agent enrolled by bundle, or joined before agents had one): the hub learns it from this file.
  const encryptionKey = ensureEncryptionKey(dataDir).publicKeyPem;
  const state = new SqliteLocalState(statePath(dataDir));
  let exported: StatusExport;
  try {
    const pending = state.pendingStatuses();
    const secret = identity.credential.slice(identity.credential.lastIndexOf('.') + 1);
    exported = signStatusExport(
      {
        kind: STATUS_EXPORT_KIND,
        format: STATUS_EXPORT_FORMAT,
        agentId: identity.agentId,
        view: identity.view,
        ackedRevision: state.revision(),
        exported: rfc3339(now),
        // Encoded as the link sends them, so the hub decodes them as it decodes a Status frame.
        statuses: pending.map((s) => Buffer.from(pb.Status.encode(s).finish()).toString('base64')),
        lastSeq: pending.reduce((n, s) => Math.max(n, s.seq), 0),
        encryptionKey,
      },
      credentialMacKey(secret),
    );
  } finally {
    state.close();
  }
  const temp = `${output}.partial`;
  writeFileSync(temp, `${JSON.stringify(exported, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, output);
  return exported;
}
