// The air-gapped sync bundle, as hub (writer) and agent (reader) both know it. A bundle is one tar stream,
// split into parts by bytes when asked:
//
//   manifest.json          what the bundle is (site, agent, base and target revision, every member below)
//   enroll.json            only in an enrolling bundle: the new agent's identity
//   changes.pb             the site's view from base to target: one protobuf Changes, as a Sync answers
//   cluster-keys.json      only when the hub knows the agent's encryption key: each Cluster's CAs in the
//                          view, sealed to that key (sealed-cluster-keys.ts)
//   blobs/sha256/<hex>     the artifacts the base did not carry
//   signature.json         ed25519 over the SHA-256 of every byte of the stream before this member
//
// The signature covers the digest of all bytes before its own member, tar headers and padding included,
// so a flipped byte anywhere in them fails it; what follows (the signature member and the end-of-archive
// blocks) has a fixed size and is checked byte for byte. The manifest also lists each member's digest, so
// the importer refuses a bad blob by name before it has read to the end.
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';

export const BUNDLE_FORMAT = 1;
export const MANIFEST_MEMBER = 'manifest.json';
export const ENROLL_MEMBER = 'enroll.json';
export const CHANGES_MEMBER = 'changes.pb';
export const SIGNATURE_MEMBER = 'signature.json';
export const BLOB_PREFIX = 'blobs/sha256/';
/** All members carry this time: the stream is then a function of its contents alone. */
export const MEMBER_MTIME = new Date(0);

/** Every member's tar header fields: hub and agent build the same header from them. */
export function memberHeader(name: string, size: number): { name: string; size: number; mtime: Date; mode: number; uid: number; gid: number; uname: string; gname: string } {
  return { name, size, mtime: MEMBER_MTIME, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '' };
}

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export interface BundleBlob {
  /** "sha256:<hex>". */
  digest: string;
  size: number;
}

export interface BundleMember {
  name: string;
  digest: string;
  size: number;
}

export interface BundlePart {
  /** 1-based; the file is `<FILE>.part-0001-of-0004`. */
  index: number;
  offset: number;
  size: number;
}

export interface BundleManifest {
  format: number;
  /** Random: tells this bundle from any other (idempotent import). */
  id: string;
  site: string;
  agentId: string;
  view: string;
  /** 0 for a full bundle (a snapshot of the view). */
  baseRevision: number;
  targetRevision: number;
  snapshot: boolean;
  /** RFC 3339. */
  created: string;
  /** Every status of this agent up to this seq is recorded at the hub (import-status): the agent may forget them. */
  statusSeq: number;
  /** The members after this one, in stream order (the signature member excepted). */
  members: BundleMember[];
  blobs: BundleBlob[];
  totalBytes: number;
  parts: BundlePart[];
}

/** What an enrolling bundle carries for a site that has never been online. */
export interface BundleEnrollment {
  hub: string;
  agentId: string;
  credential: string;
  caCertPem: string;
  view: string;
  /** The hub's bundle signing key (SPKI PEM). */
  bundleKey: string;
  /**
   * The hub CA's signature (hex, SHA-256) of `bundleKeyEndorsed(bundleKey)`: the site pins the CA by
   * --ca-hash, and takes the key only because that CA vouches for it (else anyone could carry the real CA
   * certificate beside a key of their own).
   */
  bundleKeyEndorsement: string;
}

export const bundleKeyEndorsed = (bundleKeyPem: string): Buffer => Buffer.from(`outpost-bundle-key-v1\n${bundleKeyPem}`);

/** Whether the CA of `caCertPem` endorsed `bundleKeyPem`. */
export function endorsementValid(caCertPem: string, bundleKeyPem: string, endorsementHex: string): boolean {
  try {
    return verify('sha256', bundleKeyEndorsed(bundleKeyPem), new X509Certificate(caCertPem).publicKey, Buffer.from(endorsementHex, 'hex'));
  } catch {
    return false;
  }
}

export const blobMember = (digest: string): string => `${BLOB_PREFIX}${digest.slice('sha256:'.length)}`;

/** A tar member's bytes in the stream: its header and its content padded to 512 bytes. */
export const memberBytes = (size: number): number => 512 + Math.ceil(size / 512) * 512;

/** The signature member's content: fixed size, so the tail of every bundle is the same length. */
export interface BundleSignature {
  v: 1;
  alg: 'ed25519';
  /** SHA-256 (hex) of every stream byte before the signature member. */
  digest: string;
  /** 64 bytes, hex. */
  sig: string;
}

export const SIGNATURE_BYTES = Buffer.byteLength(JSON.stringify({ v: 1, alg: 'ed25519', digest: '0'.repeat(64), sig: '0'.repeat(128) } satisfies BundleSignature));
/** The signature member, then tar's two zero blocks at the end of the archive. */
export const TAIL_BYTES = memberBytes(SIGNATURE_BYTES) + 1024;

/** What is signed: a domain tag, so no other ed25519 signature of this key can pass as a bundle's. */
export function signedMessage(streamDigestHex: string): Buffer {
  return Buffer.from(`outpost-bundle-v1\n${streamDigestHex}`);
}

export function signatureText(streamDigestHex: string, sig: Buffer): string {
  const s: BundleSignature = { v: 1, alg: 'ed25519', digest: streamDigestHex, sig: sig.toString('hex') };
  return JSON.stringify(s);
}

/** True when `text` is exactly the signature of `streamDigestHex` by `publicKeyPem`. */
export function signatureValid(text: string, streamDigestHex: string, publicKeyPem: string): boolean {
  let s: Partial<BundleSignature>;
  try {
    s = JSON.parse(text) as Partial<BundleSignature>;
  } catch {
    return false;
  }
  if (s.v !== 1 || s.alg !== 'ed25519' || s.digest !== streamDigestHex || typeof s.sig !== 'string' || !/^[0-9a-f]{128}$/.test(s.sig)) return false;
  // Byte for byte the form the hub writes: no byte of the signature member goes unchecked.
  if (text !== signatureText(streamDigestHex, Buffer.from(s.sig, 'hex'))) return false;
  return verify(null, signedMessage(streamDigestHex), createPublicKey(publicKeyPem), Buffer.from(s.sig, 'hex'));
}

/** The stream's parts for at most `maxPartBytes` each (one part when 0). */
export function partsOf(totalBytes: number, maxPartBytes: number): BundlePart[] {
  if (!maxPartBytes || totalBytes <= maxPartBytes) return [{ index: 1, offset: 0, size: totalBytes }];
  const parts: BundlePart[] = [];
  for (let offset = 0, index = 1; offset < totalBytes; offset += maxPartBytes, index++) parts.push({ index, offset, size: Math.min(maxPartBytes, totalBytes - offset) });
  return parts;
}

export function partFileName(file: string, index: number, count: number): string {
  return count === 1 ? file : `${file}.part-${String(index).padStart(4, '0')}-of-${String(count).padStart(4, '0')}`;
}

const PART_RE = /^(.*)\.part-(\d{4,})-of-(\d{4,})$/;

export function parsePartFileName(file: string): { base: string; index: number; count: number } | undefined {
  const m = PART_RE.exec(file);
  return m ? { base: m[1]!, index: Number(m[2]), count: Number(m[3]) } : undefined;
}

export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/** The manifest's JSON, checked for shape; an unknown format is refused by number. */
export function readManifest(text: string): BundleManifest {
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(text) as Partial<BundleManifest>;
  } catch (cause) {
    throw new BundleFormatError(`the bundle's manifest is not JSON (${(cause as Error).message}): the file is damaged or no Outpost bundle`, { cause });
  }
  if (typeof m?.format !== 'number') throw new BundleFormatError('the bundle has no manifest format version: it is no Outpost bundle');
  if (m.format !== BUNDLE_FORMAT) throw new BundleFormatError(`the bundle's manifest is format version ${m.format}; this agent reads version ${BUNDLE_FORMAT}: import it with an agent of the hub's release, or make the bundle with a hub of this agent's`);
  const numbers = ['baseRevision', 'targetRevision', 'statusSeq', 'totalBytes'] as const;
  const strings = ['id', 'site', 'agentId', 'view', 'created'] as const;
  if (numbers.some((k) => !Number.isSafeInteger(m[k]) || (m[k] as number) < 0) || strings.some((k) => typeof m[k] !== 'string') || typeof m.snapshot !== 'boolean' || !Array.isArray(m.members) || !Array.isArray(m.blobs) || !Array.isArray(m.parts)) {
    throw new BundleFormatError('the bundle manifest lacks fields of format 1: the file is damaged');
  }
  for (const b of [...m.members, ...m.blobs]) {
    if (typeof b?.digest !== 'string' || !DIGEST_RE.test(b.digest) || !Number.isSafeInteger(b.size) || b.size < 0) throw new BundleFormatError('the bundle manifest lists a member without a sha256 digest and size: the file is damaged');
  }
  return m as BundleManifest;
}

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
