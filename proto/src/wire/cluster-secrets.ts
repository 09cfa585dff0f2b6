// ClusterKeys on the wire (Secrets, outpost.proto): one conversion each way, so what the hub sends is
// exactly what the agent keeps. A wire message missing any PEM is not a ClusterKeys: the agent refuses it
// rather than hand a reconciler half a CA.
import type { ClusterKeys } from '../common/cluster-keys.js';
import type { ClusterKeysPem } from '../schema.js';

export function clusterKeysToWire(k: ClusterKeys): ClusterKeysPem {
  return {
    ca: { certPem: k.ca.certPem, keyPem: k.ca.keyPem },
    frontProxyCa: { certPem: k.frontProxyCa.certPem, keyPem: k.frontProxyCa.keyPem },
    etcdCa: { certPem: k.etcdCa.certPem, keyPem: k.etcdCa.keyPem },
    serviceAccountPublicKeyPem: k.serviceAccount.publicKeyPem,
    serviceAccountPrivateKeyPem: k.serviceAccount.privateKeyPem,
  };
}

/** The keys a Secrets entry carries, or undefined when any part is absent or empty. */
export function clusterKeysFromWire(w: ClusterKeysPem | null | undefined): ClusterKeys | undefined {
  const pair = (p: { certPem?: string | null; keyPem?: string | null } | null | undefined): { certPem: string; keyPem: string } | undefined =>
    p?.certPem && p.keyPem ? { certPem: p.certPem, keyPem: p.keyPem } : undefined;
  const ca = pair(w?.ca);
  const frontProxyCa = pair(w?.frontProxyCa);
  const etcdCa = pair(w?.etcdCa);
  const publicKeyPem = w?.serviceAccountPublicKeyPem;
  const privateKeyPem = w?.serviceAccountPrivateKeyPem;
  if (!ca || !frontProxyCa || !etcdCa || !publicKeyPem || !privateKeyPem) return undefined;
  return { ca, frontProxyCa, etcdCa, serviceAccount: { publicKeyPem, privateKeyPem } };
}
