import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClusterKeys } from '../common/cluster-keys.js';
import { BundleFormatError } from './bundle-format.js';
import { CLUSTER_KEYS_MEMBER, keyFingerprint, openClusterKeys, readClusterKeysMember, sealClusterKeys, SealedKeysError, SEALED_KEYS_ALG, x25519PrivateKey, x25519PublicKey, type SealContext, type SealedClusterKeys } from './sealed-cluster-keys.js';

const keys: ClusterKeys = {
  ca: { certPem: 'ca-cert', keyPem: '-----BEGIN PRIVATE KEY-----\nca\n-----END PRIVATE KEY-----\n' },
  frontProxyCa: { certPem: 'fp-cert', keyPem: 'fp-key' },
  etcdCa: { certPem: 'etcd-cert', keyPem: 'etcd-key' },
  serviceAccount: { publicKeyPem: 'sa-pub', privateKeyPem: 'sa-key' },
};
const ctx: SealContext = { agentId: 'site-ship-1', clusterUid: 'uid-1', bundleId: 'b-1' };
const cluster = { namespace: 'p', name: 'c' };

/** One base64 character of `b64` changed (to another valid one), so the decoded bytes differ. */
function altered(b64: string, at = Math.floor(b64.length / 2)): string {
  return b64.slice(0, at) + (b64[at] === 'A' ? 'B' : 'A') + b64.slice(at + 1);
}

describe('sealed cluster keys', () => {
  const agent = generateKeyPairSync('x25519');

  it('round-trips with the agent key and context they were sealed for, with no key text in the clear', () => {
    const sealed = sealClusterKeys(agent.publicKey, ctx, cluster, keys);
    expect(sealed).toMatchObject({ namespace: 'p', name: 'c', uid: 'uid-1' });
    expect(JSON.stringify(sealed)).not.toMatch(/PRIVATE KEY|ca-cert|sa-key/);
    expect(openClusterKeys(agent.privateKey, ctx, sealed)).toEqual(keys);
    // A fresh ephemeral key and nonce every time: the same keys never seal to the same bytes.
    expect(sealClusterKeys(agent.publicKey, ctx, cluster, keys).ciphertext).not.toBe(sealed.ciphertext);
  });

  it("does not open with another agent's key", () => {
    const sealed = sealClusterKeys(agent.publicKey, ctx, cluster, keys);
    const other = generateKeyPairSync('x25519');
    expect(() => openClusterKeys(other.privateKey, ctx, sealed)).toThrow(SealedKeysError);
  });

  it('does not open once its ciphertext, tag or ephemeral key is altered', () => {
    const sealed = sealClusterKeys(agent.publicKey, ctx, cluster, keys);
    for (const bad of [{ ...sealed, ciphertext: altered(sealed.ciphertext) }, { ...sealed, tag: altered(sealed.tag, 3) }, { ...sealed, epk: altered(sealed.epk, 5) }, { ...sealed, nonce: altered(sealed.nonce, 2) }] satisfies SealedClusterKeys[]) {
      expect(() => openClusterKeys(agent.privateKey, ctx, bad)).toThrow(/does not open/);
    }
    expect(() => openClusterKeys(agent.privateKey, ctx, { ...sealed, tag: 'AAAA' })).toThrow(/wrong length/);
  });

  it('does not open as another cluster, for another agent id, or in another bundle', () => {
    const sealed = sealClusterKeys(agent.publicKey, ctx, cluster, keys);
    expect(() => openClusterKeys(agent.privateKey, { ...ctx, clusterUid: 'uid-2' }, { ...sealed, uid: 'uid-2' })).toThrow(SealedKeysError);
    expect(() => openClusterKeys(agent.privateKey, { ...ctx, agentId: 'site-ship-2' }, sealed)).toThrow(SealedKeysError);
    expect(() => openClusterKeys(agent.privateKey, { ...ctx, bundleId: 'b-2' }, sealed)).toThrow(SealedKeysError);
  });

  it('takes only X25519 keys, and names one by a fingerprint of its public half', () => {
    const pem = agent.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(keyFingerprint(x25519PublicKey(pem))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keyFingerprint(x25519PublicKey(pem))).toBe(keyFingerprint(agent.publicKey));
    const ed = generateKeyPairSync('ed25519');
    expect(() => x25519PublicKey(ed.publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow(/a key of type ed25519, not an X25519/);
    expect(() => x25519PrivateKey(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(/not an X25519/);
    expect(() => x25519PublicKey('nope')).toThrow(SealedKeysError);
  });

  it('reads the member only in its own shape', () => {
    const member = { v: 1, alg: SEALED_KEYS_ALG, recipient: keyFingerprint(agent.publicKey), clusters: [sealClusterKeys(agent.publicKey, ctx, cluster, keys)] };
    expect(readClusterKeysMember(JSON.stringify(member))).toEqual(member);
    expect(() => readClusterKeysMember('{')).toThrow(new RegExp(`${CLUSTER_KEYS_MEMBER} is not JSON`));
    expect(() => readClusterKeysMember(JSON.stringify({ ...member, v: 2 }))).toThrow(BundleFormatError);
    expect(() => readClusterKeysMember(JSON.stringify({ ...member, clusters: [{ uid: 'x' }] }))).toThrow(BundleFormatError);
  });
});
