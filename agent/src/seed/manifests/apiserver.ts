// kube-apiserver as a Deployment: etcd over TLS with its own client certificate, the cluster CA for
// clients, the delivered service-account key, the front-proxy for aggregated APIs. Rolled one surge pod
// at a time, so the endpoint answers through upgrades. A renewal does not roll it: it reloads every leaf
// it has from its files (leaf-pki.ts RELOADED_LEAVES), which kubelet refreshes in place (the Secret is
// mounted whole), so the hash in its template is of what it reads once: CAs and service-account keys. Pure.
import type { V1Deployment } from '@kubernetes/client-node';
import { APISERVER_SECRET } from '../leaf-pki.js';
import { CERTS_HASH_ANNOTATION, certsVolume, container, meta, NO_DOWNTIME, pki, selectorOf, type ManifestContext } from './common.js';
import { APISERVER_PORT } from './services.js';

export const APISERVER_DEPLOYMENT = 'kube-apiserver';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ApiServerManifestInput {
  image: string;
  replicas: number;
  /** etcd's client URLs. */
  etcdServers: readonly string[];
  serviceCidr: string;
  certsHash: string;
}

export function apiServerArgs(i: Pick<ApiServerManifestInput, 'etcdServers' | 'serviceCidr'>): string[] {
  return [
    `--etcd-servers=${i.etcdServers.join(',')}`,
    `--etcd-cafile=${pki('etcd-ca.crt')}`, `--etcd-certfile=${pki('etcd-client.crt')}`, `--etcd-keyfile=${pki('etcd-client.key')}`,
    '--bind-address=0.0.0.0', `--secure-port=${APISERVER_PORT}`,
    `--service-cluster-ip-range=${i.serviceCidr}`,
    `--tls-cert-file=${pki('apiserver.crt')}`, `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('kubelet-client.crt')}`, `--kubelet-client-key=${pki('kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`, `--service-account-key-file=${pki('sa.pub')}`, `--service-account-signing-key-file=${pki('sa.key')}`,
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`, '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group', '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`, `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
    '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
    // Static workers join with a bootstrap token (manifests/joinable.ts); without a token Secret none is accepted.
    '--enable-bootstrap-token-auth=true',
    '--profiling=false', '--v=1',
    // On SIGTERM (a rollout replacing this pod) keep serving while /readyz says no, so the Service's endpoints
    // drop this pod before it stops listening: without it a client sees "connection refused" mid-rollout.
    '--shutdown-delay-duration=10s',
  ];
}

export function apiServerDeployment(ctx: ManifestContext, i: ApiServerManifestInput): V1Deployment {
  const certs = certsVolume(APISERVER_SECRET);
  // 5 s, not kubelet's 1 s: an apiserver on a busy seed answers slower than that, and a startup probe that
  // times out kills it before it has started (seen on a 2-core seed running several clusters).
  const probe = (path: string) => ({ httpGet: { path, port: APISERVER_PORT, scheme: 'HTTPS' }, timeoutSeconds: 5 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ctx, APISERVER_DEPLOYMENT, 'kube-apiserver'),
    spec: {
      replicas: i.replicas,
      selector: { matchLabels: selectorOf('kube-apiserver') },
      strategy: NO_DOWNTIME,
      // A new pod counts as available once it has stayed ready this long: one that passes /readyz once and
      // then flaps does not let the roll stop the old pod with nothing ready behind it.
      minReadySeconds: 5,
      template: {
        metadata: { labels: { ...ctx.labels, ...selectorOf('kube-apiserver') }, annotations: { [CERTS_HASH_ANNOTATION]: i.certsHash } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            container('kube-apiserver', i.image, apiServerArgs(i), {
              ports: [{ name: 'https', containerPort: APISERVER_PORT }],
              // Anonymous requests may read /readyz and /livez (system:public-info-viewer), so kubelet's probes need no credential.
              readinessProbe: { ...probe('/readyz'), periodSeconds: 2, failureThreshold: 3 },
              startupProbe: { ...probe('/livez'), periodSeconds: 2, failureThreshold: 60 },
              livenessProbe: { ...probe('/livez'), periodSeconds: 10, failureThreshold: 6 },
              volumeMounts: [certs.mount],
            }),
          ],
          volumes: [certs.volume],
        },
      },
    },
  };
}
