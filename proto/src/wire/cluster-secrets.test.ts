import { describe, expect, it } from 'vitest';
import type { ClusterKeys } from '../common/cluster-keys.js';
import { clusterKeysFromWire, clusterKeysToWire } from './cluster-secrets.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';
import { hubAnswersSecrets, PROTOCOL_MAJOR } from './protocol.js';

const keys: ClusterKeys = {
  ca: { certPem: 'ca-cert', keyPem: 'ca-key' },
  frontProxyCa: { certPem: 'fp-cert', keyPem: 'fp-key' },
  etcdCa: { certPem: 'etcd-cert', keyPem: 'etcd-key' },
  serviceAccount: { publicKeyPem: 'sa-pub', privateKeyPem: 'sa-key' },
};

describe('cluster keys on the wire', () => {
  it('round-trips through a Secrets frame unchanged', () => {
    const frame = encodeEnvelope({ secrets: { clusters: [{ ref: { kind: 'Cluster', namespace: 'p', name: 'c', uid: 'u1' }, keys: clusterKeysToWire(keys) }] } });
    const env = decodeEnvelope(frame);
    expect(env.body).toBe('secrets');
    expect(clusterKeysFromWire(env.secrets?.clusters?.[0]?.keys)).toEqual(keys);
  });

  it('refuses keys with any part missing', () => {
    expect(clusterKeysFromWire(undefined)).toBeUndefined();
    expect(clusterKeysFromWire({ ...clusterKeysToWire(keys), etcdCa: { certPem: 'etcd-cert' } })).toBeUndefined();
    expect(clusterKeysFromWire({ ...clusterKeysToWire(keys), serviceAccountPrivateKeyPem: '' })).toBeUndefined();
  });
});

describe('hubAnswersSecrets', () => {
  it('is true from protocol 1.1 on only: a 1.0 hub would close the link on the unknown body', () => {
    expect(hubAnswersSecrets(undefined)).toBe(false);
    expect(hubAnswersSecrets({ protocolMajor: PROTOCOL_MAJOR, protocolMinor: 0 })).toBe(false);
    expect(hubAnswersSecrets({ protocolMajor: PROTOCOL_MAJOR })).toBe(false);
    expect(hubAnswersSecrets({ protocolMajor: PROTOCOL_MAJOR, protocolMinor: 1 })).toBe(true);
    expect(hubAnswersSecrets({ protocolMajor: PROTOCOL_MAJOR, protocolMinor: 7 })).toBe(true);
  });
});
