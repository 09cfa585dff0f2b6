// The kubeconfig a hosted controller-manager or scheduler reads: the API server inside the seed, the
// cluster CA, and the component's own client certificate inline. Deterministic text, so the Secret's hash
// changes only when the certificate does. JSON, which every kubeconfig reader takes as YAML. Pure.
import type { KeyPairPem } from '@outpost/proto';

export interface ComponentKubeconfigInput {
  server: string;
  caPem: string;
  user: string;
  client: KeyPairPem;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export function componentKubeconfig(i: ComponentKubeconfigInput): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'hosted', cluster: { server: i.server, 'certificate-authority-data': b64(i.caPem) } }],
    users: [{ name: i.user, user: { 'client-certificate-data': b64(i.client.certPem), 'client-key-data': b64(i.client.keyPem) } }],
    contexts: [{ name: 'hosted', context: { cluster: 'hosted', user: i.user } }],
    'current-context': 'hosted',
  }, null, 2);
}
