// The agent's encryption key (X25519), DIR/encryption.key (PKCS#8 PEM, 0600), made at join, or on first
// need for an agent enrolled by bundle (its first import, or export-status). Its private half never leaves
// the agent; the public half travels in status bundles, and the hub seals the CAs of this agent's Clusters
// to it in the bundles it writes (proto/src/bundle/sealed-cluster-keys.ts).
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFingerprint, SealedKeysError, x25519PrivateKey } from '@outpost/proto';

export const encryptionKeyPath = (dataDir: string): string => join(dataDir, 'encryption.key');

export interface AgentEncryptionKey {
  privateKey: KeyObject;
  /** SPKI PEM: what the status bundle carries. */
  publicKeyPem: string;
  /** keyFingerprint of the public half. */
  fingerprint: string;
}

export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/** Makes DIR/encryption.key unless it exists; returns the key either way. */
export function ensureEncryptionKey(dataDir: string): AgentEncryptionKey {
  const path = encryptionKeyPath(dataDir);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('x25519');
    // Written whole (a temporary file renamed), readable by the agent's user alone.
    writeFileSync(`${path}.tmp`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(`${path}.tmp`, 0o600);
    renameSync(`${path}.tmp`, path);
  }
  return loadEncryptionKey(dataDir);
}

/** The key ensureEncryptionKey made; EncryptionKeyError, saying what to do, when it is missing or no X25519 key. */
export function loadEncryptionKey(dataDir: string): AgentEncryptionKey {
  const path = encryptionKeyPath(dataDir);
  let privateKey: KeyObject;
  try {
    privateKey = x25519PrivateKey(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new EncryptionKeyError(`${dataDir} holds no encryption key (${path}); \`outpost-agent bundle export-status --data ${dataDir}\` makes one and carries it to the hub`, { cause: err });
    const why = err instanceof SealedKeysError ? err.message : (err as Error).message;
    throw new EncryptionKeyError(`${path} is no agent encryption key (${why}); move it away and run \`outpost-agent bundle export-status --data ${dataDir}\` to make a new one, then import that status bundle at the hub`, { cause: err });
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: keyFingerprint(publicKey) };
}
