// The seed agent's own client of a hosted cluster's API server, for what kubeadm init's later phases put
// into a cluster (manifests/joinable.ts): the endpoint the workers dial, the cluster CA, and a client
// certificate the agent signs for itself with the CA the hub delivered (system:masters, one hour: a fresh
// one each run, so no long-lived admin credential exists). The same client class as the seed's.
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterKeys } from '@outpost/proto';
import { createClientCert } from '@outpost/proto/x509';
import { KubeSeedApi, type SeedApi } from './seed-api.js';

/** Who the hosted API server's audit log names for what the seed agent applies there. */
export const HOSTED_CLIENT_USER = 'outpost:seed-agent';
const CLIENT_LIFETIME_MS = 3_600_000;

export async function hostedClusterApi(endpoint: string, keys: ClusterKeys, now = new Date()): Promise<SeedApi> {
  const client = await createClientCert(keys.ca, { commonName: HOSTED_CLIENT_USER, organizations: ['system:masters'] }, new Date(now.getTime() + CLIENT_LIFETIME_MS));
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'hosted', server: endpoint, caData: b64(keys.ca.certPem), skipTLSVerify: false }],
    users: [{ name: HOSTED_CLIENT_USER, certData: b64(client.certPem), keyData: b64(client.keyPem) }],
    contexts: [{ name: 'hosted', cluster: 'hosted', user: HOSTED_CLIENT_USER }],
    currentContext: 'hosted',
  });
  return new KubeSeedApi(kc);
}
