// The hub's bundle signing key: ed25519, PKCS#8 PEM in DIR/bundle.key (0600). `hub init` makes it; a hub
// directory made before bundles existed gets it when the hub starts. Agents pin its public half at join
// (the join answer) or from the Welcome of a link they already trust.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signedMessage } from '@outpost/proto';

/** Its file in the hub data directory (data-dir.ts names it too). */
export const BUNDLE_KEY_FILE = 'bundle.key';

export interface BundleSigningKey {
  privateKey: KeyObject;
  /** SPKI PEM: what agents pin. */
  publicKeyPem: string;
}

/** Writes a new key at `path` unless one is there; true when it made one. `wx`: never over an existing key. */
export function ensureBundleKey(path: string): boolean {
  if (existsSync(path)) return false;
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  return true;
}

export function loadBundleKey(path: string): BundleSigningKey {
  const privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an ed25519 key; move it away and start the hub to make a new one (agents then pin the new key at their next connection)`);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

export function signStreamDigest(key: BundleSigningKey, streamDigestHex: string): Buffer {
  return sign(null, signedMessage(streamDigestHex), key.privateKey);
}

/** The public half of the hub's key in `dataDir`, for the Welcome (the hub makes the key before it serves). */
export function bundleKeyPem(dataDir: string): string {
  return loadBundleKey(join(dataDir, BUNDLE_KEY_FILE)).publicKeyPem;
}
