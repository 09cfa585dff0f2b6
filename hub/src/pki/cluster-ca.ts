// A cluster's certificate authorities and service-account key, as kubeadm lays them out (ca, front-proxy-ca,
// etcd/ca, sa): made by the hub when the Cluster is created, so the hub is every cluster's CA of record.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { ClusterKeys, KeyPairPem } from '@outpost/proto';
import { createCa, createClientCert } from './pki.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** CAs live long (kubeadm's 10 years): a cluster keeps them across seeds and upgrades. */
export const CLUSTER_CA_VALID_DAYS = 3650;

export type { ClusterKeys } from '@outpost/proto';

/** The CAs take kubeadm's common names, so a cluster whose kubeadm uses them as an external CA looks as kubeadm's own. */
export async function createClusterKeys(): Promise<ClusterKeys> {
  const [ca, frontProxyCa, etcdCa, sa] = await Promise.all([
    createCa('kubernetes', CLUSTER_CA_VALID_DAYS),
    createCa('front-proxy-ca', CLUSTER_CA_VALID_DAYS),
    createCa('etcd-ca', CLUSTER_CA_VALID_DAYS),
    // ECDSA P-256, which kube-apiserver and kube-controller-manager take for service-account keys (ES256).
    generateKeyPairAsync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }),
  ]);
  return { ca, frontProxyCa, etcdCa, serviceAccount: { publicKeyPem: sa.publicKey, privateKeyPem: sa.privateKey } };
}

/** The group Kubernetes binds to cluster-admin: an admin kubeconfig's certificate is in it. */
export const ADMIN_GROUP = 'system:masters';

/** An admin client certificate for `principal`, signed by the cluster CA, valid until `notAfter`. */
export function createAdminClientCert(ca: KeyPairPem, principal: string, notAfter: Date): Promise<KeyPairPem> {
  return createClientCert(ca, { commonName: `outpost:${principal}`, organizations: [ADMIN_GROUP] }, notAfter);
}
