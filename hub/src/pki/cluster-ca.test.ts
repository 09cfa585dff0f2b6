import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ADMIN_GROUP, createAdminClientCert, createClusterKeys } from './cluster-ca.js';

const DAY = 86_400_000;

describe('cluster keys', () => {
  it('makes three distinct self-signed CAs valid for ten years and a service-account key pair', async () => {
    const keys = await createClusterKeys();
    const cas = [keys.ca, keys.frontProxyCa, keys.etcdCa].map((k) => new X509Certificate(k.certPem));
    expect(new Set(cas.map((c) => c.fingerprint256)).size).toBe(3);
    for (const c of cas) {
      expect(c.ca).toBe(true);
      expect(c.verify(c.publicKey)).toBe(true);
      expect(new Date(c.validTo).getTime() - Date.now()).toBeGreaterThan(3649 * DAY);
    }
    expect(cas.map((c) => c.subject)).toEqual(['CN=kubernetes', 'CN=front-proxy-ca', 'CN=etcd-ca']);
    // The service-account pair signs and checks, as kube-apiserver's token signer does.
    const sig = sign('sha256', Buffer.from('token'), createPrivateKey(keys.serviceAccount.privateKeyPem));
    expect(verify('sha256', Buffer.from('token'), createPublicKey(keys.serviceAccount.publicKeyPem), sig)).toBe(true);
  });

  it('signs an admin client certificate that chains to the cluster CA alone, expiring as asked', async () => {
    const keys = await createClusterKeys();
    const notAfter = new Date(Math.floor((Date.now() + 3_600_000) / 1000) * 1000);
    const client = await createAdminClientCert(keys.ca, 'tok123', notAfter);
    const cert = new X509Certificate(client.certPem);
    expect(cert.verify(new X509Certificate(keys.ca.certPem).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(keys.frontProxyCa.certPem).publicKey)).toBe(false);
    expect(cert.checkIssued(new X509Certificate(keys.ca.certPem))).toBe(true);
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validTo).getTime()).toBe(notAfter.getTime());
    expect(cert.subject.split('\n').sort()).toEqual(['CN=outpost:tok123', `O=${ADMIN_GROUP}`]);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    // The key is the certificate's.
    expect(createPublicKey(createPrivateKey(client.keyPem)).export({ format: 'der', type: 'spki' })).toEqual(cert.publicKey.export({ format: 'der', type: 'spki' }));
  });
});
