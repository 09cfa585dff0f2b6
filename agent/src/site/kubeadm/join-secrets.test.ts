import { describe, expect, it } from 'vitest';
import { createCa } from '@outpost/proto/x509';
import type { ClusterKeys } from '@outpost/proto';
import { caCertHash } from '@outpost/proto';
import { joinSecrets } from './join-secrets.js';

async function keys(): Promise<ClusterKeys> {
  const [ca, frontProxyCa, etcdCa] = await Promise.all([createCa('ca'), createCa('front-proxy-ca'), createCa('etcd-ca')]);
  return { ca, frontProxyCa, etcdCa, serviceAccount: { publicKeyPem: 'PUB', privateKeyPem: 'PRIV' } };
}

describe('joinSecrets', () => {
  it('derives a kubeadm-shaped token, the same again for the same cluster generation, new for the next or another cluster', async () => {
    const k = await keys();
    const a = joinSecrets(k, 'uid-1', 3);
    expect(a.bootstrapToken).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(a.caCertHash).toBe(caCertHash(k.ca.certPem));
    expect(joinSecrets(k, 'uid-1', 3)).toEqual(a);
    expect(joinSecrets(k, 'uid-1', 4).bootstrapToken).not.toBe(a.bootstrapToken);
    expect(joinSecrets(k, 'uid-2', 3).bootstrapToken).not.toBe(a.bootstrapToken);
    expect(joinSecrets(await keys(), 'uid-1', 3).bootstrapToken).not.toBe(a.bootstrapToken);
  });
});
