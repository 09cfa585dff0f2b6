import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecretsKey, seal, SealError, unseal } from './seal.js';

const key = randomBytes(32);
const secret = Buffer.from('-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n');

describe('seal', () => {
  it('opens what it sealed, and the sealed bytes do not hold the plaintext', () => {
    const sealed = seal(key, 'cluster-pki/demo/c1', secret);
    expect(sealed.includes(secret)).toBe(false);
    expect(sealed.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    expect(unseal(key, 'cluster-pki/demo/c1', sealed)).toEqual(secret);
  });

  it('refuses a ciphertext with any byte changed, including the tag and the nonce', () => {
    const sealed = seal(key, 'c', secret);
    for (const at of [1, 13, Math.floor(sealed.length / 2), sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at] = tampered[at]! ^ 1;
      expect(() => unseal(key, 'c', tampered)).toThrow(SealError);
    }
  });

  it('refuses a value sealed for another object, with another key, or cut short', () => {
    const sealed = seal(key, 'cluster-pki/demo/c1', secret);
    expect(() => unseal(key, 'cluster-pki/demo/c2', sealed)).toThrow(/belongs to another object/);
    expect(() => unseal(randomBytes(32), 'cluster-pki/demo/c1', sealed)).toThrow(SealError);
    expect(() => unseal(key, 'cluster-pki/demo/c1', sealed.subarray(0, 20))).toThrow(/not in a form/);
  });

  it('reads secrets.key as hub init writes it, and says what is wrong with a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-seal-'));
    try {
      const path = join(dir, 'secrets.key');
      writeFileSync(path, key.toString('base64') + '\n');
      expect(readSecretsKey(path)).toEqual(key);
      writeFileSync(path, 'c2hvcnQ=\n');
      expect(() => readSecretsKey(path)).toThrow(/32-byte/);
      expect(() => readSecretsKey(join(dir, 'missing'))).toThrow(/outpost hub init/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
