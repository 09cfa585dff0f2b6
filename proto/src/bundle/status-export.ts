// A status bundle: what an agent with no network carries back to its hub. Its outbox (each Status encoded
// as on the link, so the hub decodes it as it decodes a frame) and the revision it holds, authenticated by
// an HMAC-SHA256 keyed with the SHA-256 of the agent's credential secret. That hash is exactly what the hub
// keeps of the credential (auth/secrets.ts), so the hub can check it without ever holding the secret, and
// nobody without the agent's credential (or the hub's database) can make one. An ed25519 agent key would
// need a new key pinned at the hub for every agent; the credential is already that shared secret.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BundleFormatError } from './bundle-format.js';

export const STATUS_EXPORT_FORMAT = 1;
export const STATUS_EXPORT_KIND = 'outpost-status-bundle';

export interface StatusExport {
  kind: typeof STATUS_EXPORT_KIND;
  format: number;
  agentId: string;
  view: string;
  /** The revision the agent holds (it acks it, as over the link). */
  ackedRevision: number;
  /** RFC 3339. */
  exported: string;
  /** pb.Status, base64, in seq order. */
  statuses: string[];
  /** The highest seq among them (0: none). */
  lastSeq: number;
  /**
   * The agent's X25519 encryption key (SPKI PEM), which the hub seals the CAs of the agent's Clusters to in
   * later bundles. Covered by the MAC, so the hub takes it as the agent's own. Absent from older agents'.
   */
  encryptionKey?: string;
  /** HMAC-SHA256 (hex) of the JSON of every field above, in this order. */
  mac: string;
}

export type UnsignedStatusExport = Omit<StatusExport, 'mac'>;

/** The HMAC key of a credential secret: its SHA-256, hex, as the hub stores it. */
export const credentialMacKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function macOf(body: UnsignedStatusExport, keyHex: string): string {
  const { kind, format, agentId, view, ackedRevision, exported, statuses, lastSeq, encryptionKey } = body;
  // An absent encryptionKey is left out by JSON.stringify: an older agent's MAC is computed as before.
  return createHmac('sha256', keyHex).update(JSON.stringify({ kind, format, agentId, view, ackedRevision, exported, statuses, lastSeq, encryptionKey })).digest('hex');
}

export function signStatusExport(body: UnsignedStatusExport, keyHex: string): StatusExport {
  return { ...body, mac: macOf(body, keyHex) };
}

export function statusExportMacValid(e: StatusExport, keyHex: string): boolean {
  const want = Buffer.from(macOf(e, keyHex), 'hex');
  const got = Buffer.from(typeof e.mac === 'string' && /^[0-9a-f]{64}$/.test(e.mac) ? e.mac : '', 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

export function readStatusExport(text: string): StatusExport {
  let e: Partial<StatusExport>;
  try {
    e = JSON.parse(text) as Partial<StatusExport>;
  } catch (cause) {
    throw new BundleFormatError(`this is not a status bundle (not JSON: ${(cause as Error).message}); give the file \`outpost-agent bundle export-status\` wrote`, { cause });
  }
  if (e?.kind !== STATUS_EXPORT_KIND) throw new BundleFormatError('this is not a status bundle; give the file `outpost-agent bundle export-status` wrote');
  if (e.format !== STATUS_EXPORT_FORMAT) throw new BundleFormatError(`the status bundle is format version ${String(e.format)}; this hub reads version ${STATUS_EXPORT_FORMAT}: import it with a hub of the agent's release`);
  if (typeof e.agentId !== 'string' || typeof e.view !== 'string' || !Number.isSafeInteger(e.ackedRevision) || !Number.isSafeInteger(e.lastSeq) || !Array.isArray(e.statuses) || e.statuses.some((s) => typeof s !== 'string') || typeof e.mac !== 'string' || typeof e.exported !== 'string' || (e.encryptionKey !== undefined && typeof e.encryptionKey !== 'string')) {
    throw new BundleFormatError('the status bundle lacks fields of format 1: the file is damaged; export it again');
  }
  return e as StatusExport;
}
