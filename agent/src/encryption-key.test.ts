import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptionKeyPath, ensureEncryptionKey, EncryptionKeyError, loadEncryptionKey } from './encryption-key.js';

describe("the agent's encryption key", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'outpost-enc-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once, readable by the agent alone, and the same ever after', () => {
    const made = ensureEncryptionKey(dir);
    expect(statSync(encryptionKeyPath(dir)).mode & 0o777).toBe(0o600);
    expect(readFileSync(encryptionKeyPath(dir), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(made.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(ensureEncryptionKey(dir).fingerprint).toBe(made.fingerprint);
    expect(loadEncryptionKey(dir).publicKeyPem).toBe(made.publicKeyPem);
  });

  it('says what to do when it is missing or no X25519 key', () => {
    expect(() => loadEncryptionKey(dir)).toThrow(/holds no encryption key .*export-status/);
    writeFileSync(encryptionKeyPath(dir), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    expect(() => loadEncryptionKey(dir)).toThrow(EncryptionKeyError);
    expect(() => ensureEncryptionKey(dir)).toThrow(/is no agent encryption key \(a key of type ed25519.*move it away/);
  });
});
