import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BundleFormatError, parsePartFileName, partFileName, partsOf, readManifest, SIGNATURE_BYTES, signatureText, signatureValid, signedMessage } from './bundle-format.js';
import { credentialMacKey, signStatusExport, statusExportMacValid, STATUS_EXPORT_KIND } from './status-export.js';

describe('bundle format', () => {
  it('splits a stream into parts that cover it exactly, and names them so they sort in order', () => {
    expect(partsOf(10, 0)).toEqual([{ index: 1, offset: 0, size: 10 }]);
    expect(partsOf(10, 4)).toEqual([{ index: 1, offset: 0, size: 4 }, { index: 2, offset: 4, size: 4 }, { index: 3, offset: 8, size: 2 }]);
    expect(partFileName('b.tar', 2, 12)).toBe('b.tar.part-0002-of-0012');
    expect(partFileName('b.tar', 1, 1)).toBe('b.tar');
    expect(parsePartFileName('b.tar.part-0002-of-0012')).toEqual({ base: 'b.tar', index: 2, count: 12 });
    expect(parsePartFileName('b.tar')).toBeUndefined();
  });

  it('verifies a signature only in exactly the form the hub writes, and only with its key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const digest = 'ab'.repeat(32);
    const text = signatureText(digest, sign(null, signedMessage(digest), privateKey));
    expect(Buffer.byteLength(text)).toBe(SIGNATURE_BYTES);
    expect(signatureValid(text, digest, pem)).toBe(true);
    expect(signatureValid(text, 'cd'.repeat(32), pem)).toBe(false);
    expect(signatureValid(text, digest, other)).toBe(false);
    expect(signatureValid(text.replace('{"v"', '{ "v"'), digest, pem)).toBe(false);
  });

  it('refuses a manifest of an unknown format by its number, and one without its fields', () => {
    expect(() => readManifest(JSON.stringify({ format: 2 }))).toThrow(/format version 2; this agent reads version 1/);
    expect(() => readManifest(JSON.stringify({ format: 1 }))).toThrow(BundleFormatError);
    expect(() => readManifest('not json')).toThrow(/not JSON/);
  });

  it("authenticates a status export with the credential's hash, and nothing else", () => {
    const key = credentialMacKey('secret');
    const e = signStatusExport({ kind: STATUS_EXPORT_KIND, format: 1, agentId: 'a', view: 'site/s', ackedRevision: 3, exported: '2026-01-01T00:00:00Z', statuses: ['AA=='], lastSeq: 1 }, key);
    expect(statusExportMacValid(e, key)).toBe(true);
    expect(statusExportMacValid(e, credentialMacKey('other'))).toBe(false);
    expect(statusExportMacValid({ ...e, lastSeq: 2 }, key)).toBe(false);
    expect(statusExportMacValid({ ...e, mac: 'zz' }, key)).toBe(false);
    // The encryption key is covered too: one swapped in would have the hub seal CAs to someone else.
    const withKey = signStatusExport({ ...e, encryptionKey: 'PEM-A' }, key);
    expect(statusExportMacValid(withKey, key)).toBe(true);
    expect(statusExportMacValid({ ...withKey, encryptionKey: 'PEM-B' }, key)).toBe(false);
    expect(statusExportMacValid({ ...withKey, encryptionKey: undefined }, key)).toBe(false);
  });
});
