// A Cluster's CAs in a sync bundle, sealed so only the agent they are for can open them: a bundle is a
// file on a disk that may be lost, and the CA private keys must never be readable from it.
//
// ECIES over X25519, node:crypto's primitives only: for each Cluster the hub makes an ephemeral X25519 key
// pair, agrees a secret with the agent's public key (encryption.key at the agent; the hub learns its public
// half from the agent's MACed status bundle), derives an AES-256-GCM key with HKDF-SHA256 (salt: both
// public keys; info: agent, cluster uid and bundle), and seals the keys with associated data naming the
// agent and the cluster uid. A blob therefore opens only with that agent's private key, only as that
// Cluster's, and only in that bundle; the bundle's signature covers the member besides.
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import type { ClusterKeys } from '../common/cluster-keys.js';
import type { ClusterKeysPem } from '../schema.js';
import { clusterKeysFromWire, clusterKeysToWire } from '../wire/cluster-secrets.js';
import { BundleFormatError } from './bundle-format.js';

export const CLUSTER_KEYS_MEMBER = 'cluster-keys.json';
export const SEALED_KEYS_ALG = 'x25519-hkdf-sha256-aes-256-gcm';

/** Whose keys, in which bundle: every part goes into the key derivation, agent and uid into the AAD too. */
export interface SealContext {
  agentId: string;
  clusterUid: string;
  bundleId: string;
}

export interface SealedClusterKeys {
  /** The Cluster, as the bundle's changes name it. */
  namespace: string;
  name: string;
  uid: string;
  /** The ephemeral X25519 public key, raw 32 bytes, base64. */
  epk: string;
  /** 12 bytes, base64. */
  nonce: string;
  /** AES-256-GCM of the keys (their wire form as JSON), base64. */
  ciphertext: string;
  /** 16 bytes, base64. */
  tag: string;
}

/** The member: who it is sealed to, and one entry per Cluster. */
export interface ClusterKeysMember {
  v: 1;
  alg: typeof SEALED_KEYS_ALG;
  /** The agent's public key the blobs are sealed to (keyFingerprint), so a mismatch is named as such. */
  recipient: string;
  clusters: SealedClusterKeys[];
}

export class SealedKeysError extends Error {
  override readonly name = 'SealedKeysError';
}

const INFO = 'outpost-bundle-cluster-keys-v1';

/** An X25519 public key from its SPKI PEM; throws SealedKeysError for anything else. */
export function x25519PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new SealedKeysError(`not a public key (${(cause as Error).message})`, { cause });
  }
  if (key.asymmetricKeyType !== 'x25519') throw new SealedKeysError(`a key of type ${key.asymmetricKeyType ?? 'unknown'}, not an X25519 encryption key`);
  return key;
}

/** The PKCS#8 PEM of an X25519 private key, checked; throws SealedKeysError for anything else. */
export function x25519PrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new SealedKeysError(`not a private key (${(cause as Error).message})`, { cause });
  }
  if (key.asymmetricKeyType !== 'x25519') throw new SealedKeysError(`a key of type ${key.asymmetricKeyType ?? 'unknown'}, not an X25519 encryption key`);
  return key;
}

const rawPublic = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');

/** "sha256:<hex>" of the raw public key: names a key in messages without printing it. */
export function keyFingerprint(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256').update(rawPublic(publicKey)).digest('hex')}`;
}

const aad = (c: SealContext): Buffer => Buffer.from(`${INFO}\nagent ${c.agentId}\ncluster ${c.clusterUid}`);
const info = (c: SealContext): Buffer => Buffer.from(`${INFO}\nagent ${c.agentId}\ncluster ${c.clusterUid}\nbundle ${c.bundleId}`);

function derive(shared: Buffer, epk: Buffer, recipient: Buffer, c: SealContext): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), info(c), 32));
}

/** Seals `keys` of Cluster namespace/name to `recipient` (the agent's X25519 public key). */
export function sealClusterKeys(recipient: KeyObject, c: SealContext, cluster: { namespace: string; name: string }, keys: ClusterKeys): SealedClusterKeys {
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublic(eph.publicKey);
  const key = derive(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), epk, rawPublic(recipient), c);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad(c));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(clusterKeysToWire(keys))), cipher.final()]);
  return { namespace: cluster.namespace, name: cluster.name, uid: c.clusterUid, epk: epk.toString('base64'), nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/**
 * Opens a sealed entry with the agent's private key for `c`; SealedKeysError when it does not open
 * (altered, sealed to another agent's key, or for another cluster or bundle) or holds incomplete keys.
 */
export function openClusterKeys(privateKey: KeyObject, c: SealContext, s: SealedClusterKeys): ClusterKeys {
  const epk = Buffer.from(s.epk, 'base64');
  const nonce = Buffer.from(s.nonce, 'base64');
  const tag = Buffer.from(s.tag, 'base64');
  if (epk.length !== 32 || nonce.length !== 12 || tag.length !== 16) throw new SealedKeysError('its ephemeral key, nonce or tag has the wrong length');
  let plain: Buffer;
  try {
    const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: epk.toString('base64url') }, format: 'jwk' });
    const key = derive(diffieHellman({ privateKey, publicKey: ephemeral }), epk, rawPublic(createPublicKey(privateKey)), c);
    const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad(c)).setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(s.ciphertext, 'base64')), decipher.final()]);
  } catch (cause) {
    throw new SealedKeysError('it does not open with this agent\'s encryption key for this cluster (altered, or sealed for another agent or cluster)', { cause });
  }
  let keys: ClusterKeys | undefined;
  try {
    keys = clusterKeysFromWire(JSON.parse(plain.toString('utf8')) as ClusterKeysPem);
  } catch {
    keys = undefined;
  }
  if (!keys) throw new SealedKeysError('it opened, but holds incomplete keys');
  return keys;
}

/** The member's JSON, checked for shape (its digest and the bundle's signature are checked apart). */
export function readClusterKeysMember(text: string): ClusterKeysMember {
  let m: Partial<ClusterKeysMember>;
  try {
    m = JSON.parse(text) as Partial<ClusterKeysMember>;
  } catch (cause) {
    throw new BundleFormatError(`the bundle's ${CLUSTER_KEYS_MEMBER} is not JSON`, { cause });
  }
  const str = (v: unknown): boolean => typeof v === 'string';
  if (m?.v !== 1 || m.alg !== SEALED_KEYS_ALG || !str(m.recipient) || !Array.isArray(m.clusters)
    || m.clusters.some((c) => !c || !(['namespace', 'name', 'uid', 'epk', 'nonce', 'ciphertext', 'tag'] as const).every((k) => str(c[k])))) {
    throw new BundleFormatError(`the bundle's ${CLUSTER_KEYS_MEMBER} is not sealed cluster keys of version 1 (${SEALED_KEYS_ALG})`);
  }
  return m as ClusterKeysMember;
}
