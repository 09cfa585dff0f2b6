// etcd as a StatefulSet of 1 or 3 members, TLS with the cluster's etcd CA for clients and peers, and a
// PodDisruptionBudget that keeps quorum. Its data is on a PersistentVolumeClaim when the seed has a
// default StorageClass, else on an emptyDir (lost with the pod; the EtcdReady condition says so).
// A renewal of etcd's leaves does not roll it: the hash in its template leaves its leaves out (leaf-pki.ts
// rollHash). etcd reads its certificate and key files again on every TLS handshake, and kubelet updates a
// Secret volume's files in place (a whole-directory mount: a subPath mount would never be updated), so the
// next handshake after kubelet's refresh presents the renewed leaf with no restart, and the API stays up. Pure.
import type { V1PodDisruptionBudget, V1StatefulSet } from '@kubernetes/client-node';
import { ETCD_SECRET } from '../leaf-pki.js';
import { CERTS_HASH_ANNOTATION, certsVolume, container, meta, pki, selectorOf, type ManifestContext } from './common.js';
import { ETCD_CLIENT_PORT, ETCD_HEADLESS_SERVICE, ETCD_PEER_PORT, ETCD_STATEFULSET, memberHost } from './services.js';

export const ETCD_METRICS_PORT = 2381;
export const ETCD_DATA_SIZE = '1Gi';

export interface EtcdManifestInput {
  image: string;
  replicas: 1 | 3;
  /** Each member's Service IP, by member index: the peers' /etc/hosts. */
  memberIps: readonly string[];
  /** PersistentVolumeClaims (the seed's default StorageClass), or an emptyDir. */
  persistent: boolean;
  /** rollHash of its Secret: changes with its CA, not with its renewed leaves. */
  certsHash: string;
}

export function etcdStatefulSet(ctx: ManifestContext, i: EtcdManifestInput): V1StatefulSet {
  const members = Array.from({ length: i.replicas }, (_, n) => `${ETCD_STATEFULSET}-${n}=https://${memberHost(n)}:${ETCD_PEER_PORT}`).join(',');
  const certs = certsVolume(ETCD_SECRET);
  const args = [
    '--name=$(POD_NAME)',
    '--data-dir=/var/lib/etcd/data',
    `--listen-client-urls=https://0.0.0.0:${ETCD_CLIENT_PORT}`,
    `--advertise-client-urls=https://$(POD_NAME).etcd-peer:${ETCD_CLIENT_PORT}`,
    `--listen-peer-urls=https://0.0.0.0:${ETCD_PEER_PORT}`,
    `--initial-advertise-peer-urls=https://$(POD_NAME).etcd-peer:${ETCD_PEER_PORT}`,
    `--initial-cluster=${members}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${ctx.namespace}`,
    `--listen-metrics-urls=http://0.0.0.0:${ETCD_METRICS_PORT}`,
    '--client-cert-auth=true', `--trusted-ca-file=${pki('ca.crt')}`, `--cert-file=${pki('server.crt')}`, `--key-file=${pki('server.key')}`,
    '--peer-client-cert-auth=true', `--peer-trusted-ca-file=${pki('ca.crt')}`, `--peer-cert-file=${pki('peer.crt')}`, `--peer-key-file=${pki('peer.key')}`,
    '--snapshot-count=10000',
    '--log-level=warn',
  ];
  const data = { name: 'data', mountPath: '/var/lib/etcd' };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(ctx, ETCD_STATEFULSET, 'etcd'),
    spec: {
      serviceName: ETCD_HEADLESS_SERVICE,
      replicas: i.replicas,
      // All members at once: none is ready before a quorum has formed, so one at a time would never finish.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorOf('etcd') },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { ...ctx.labels, ...selectorOf('etcd') }, annotations: { [CERTS_HASH_ANNOTATION]: i.certsHash } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          hostAliases: i.memberIps.map((ip, n) => ({ ip, hostnames: [memberHost(n)] })),
          containers: [
            container('etcd', i.image, args, {
              env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              ports: [
                { name: 'client', containerPort: ETCD_CLIENT_PORT },
                { name: 'peer', containerPort: ETCD_PEER_PORT },
                { name: 'metrics', containerPort: ETCD_METRICS_PORT },
              ],
              // 5 s timeouts, not kubelet's 1 s: a busy seed answers slower than that (manifests/apiserver.ts).
              readinessProbe: { httpGet: { path: '/health', port: ETCD_METRICS_PORT }, periodSeconds: 2, failureThreshold: 3, timeoutSeconds: 5 },
              livenessProbe: { httpGet: { path: '/health', port: ETCD_METRICS_PORT }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 8, timeoutSeconds: 5 },
              volumeMounts: [data, certs.mount],
            }),
          ],
          volumes: [certs.volume, ...(i.persistent ? [] : [{ name: 'data', emptyDir: {} }])],
        },
      },
      ...(i.persistent
        ? { volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', labels: { ...ctx.labels, ...selectorOf('etcd') } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: ETCD_DATA_SIZE } } } }] }
        : {}),
    },
  };
}

/** One member may be away at a time: 3 keep quorum with 2, and a lone member may still be drained. */
export function etcdDisruptionBudget(ctx: ManifestContext): V1PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(ctx, ETCD_STATEFULSET, 'etcd'), spec: { maxUnavailable: 1, selector: { matchLabels: selectorOf('etcd') } } };
}
