// What `kubeadm init`'s later phases put into a cluster so that `kubeadm join` works against it, for a
// hosted control plane with static workers: the bootstrap token (bootstrap-token phase), cluster-info in
// kube-public for discovery (signed by the controller-manager's bootstrapsigner), the RBAC of
// bootstrappers and nodes, the kubeadm-config and kubelet-config ConfigMaps a join reads, and kube-proxy.
// Applied by the seed agent into the hosted cluster itself (server-side apply, so applying again changes
// nothing). Names and rules are kubeadm's, so a worker joined here looks like one kubeadm joined. Pure.
import type { KubernetesObject, V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1DaemonSet, V1Role, V1RoleBinding, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** The group kubeadm puts its default join tokens in; its RBAC below names it. */
export const BOOTSTRAP_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
const NODES_GROUP = 'system:nodes';
const KUBE_PROXY = 'kube-proxy';

export interface JoinableInputs {
  clusterName: string;
  /** "v1.34.4": kubeadm join's version checks compare the kubelet's with it. */
  kubernetesVersion: string;
  /** The endpoint workers dial, "https://host:port". */
  endpoint: string;
  caCertPem: string;
  /** The bootstrap token "<id>.<secret>". */
  token: string;
  podCidr: string;
  serviceCidr: string;
  dnsDomain: string;
  /** The Release's kube-proxy image; absent: no kube-proxy (the Release brings none). */
  kubeProxyImage?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const binding = (name: string, role: { kind: 'Role' | 'ClusterRole'; name: string }, groups: readonly string[], namespace?: string): V1RoleBinding | V1ClusterRoleBinding => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...role },
  subjects: groups.map((g) => (g === 'system:anonymous' ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: g } : { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g })),
});
const readConfigMap = (name: string, namespace: string, configMap: string): V1Role => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name, namespace },
  rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [configMap], verbs: ['get'] }],
});

/** The kubeconfig in cluster-info: the endpoint and the CA, no credential (bootstrapsigner signs it per token). */
function clusterInfoKubeconfig(endpoint: string, caCertPem: string): string {
  return stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: '', cluster: { server: endpoint, 'certificate-authority-data': b64(caCertPem) } }], contexts: [], users: [], preferences: {} });
}

/** kubelet's settings for every worker; what differs per host (cgroup driver, swap, oom score) the site agent patches in at the join. */
function kubeletConfiguration(i: JoinableInputs): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true, cacheTTL: '0s' }, x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    clusterDNS: [clusterDnsIp(i.serviceCidr)],
    clusterDomain: i.dnsDomain,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    rotateCertificates: true,
    staticPodPath: '/etc/kubernetes/manifests',
  };
}

/** kubeadm's choice: the tenth address of the Service range. */
export function clusterDnsIp(serviceCidr: string): string {
  const [addr] = serviceCidr.split('/');
  const parts = (addr ?? '').split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) throw new RangeError(`"${serviceCidr}" is not an IPv4 CIDR`);
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) + 10;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function kubeProxy(i: JoinableInputs & { kubeProxyImage: string }): KubernetesObject[] {
  const config = stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
    mode: 'iptables',
    clusterCIDR: i.podCidr,
    // 0: leave the host's conntrack table size alone (a read-only /sys would stop kube-proxy), as the site's kubeadm clusters do.
    conntrack: { maxPerCore: 0 },
  });
  const kubeconfig = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // The endpoint, not the in-cluster Service: the hosted API server's pods are on the seed, out of the workers' reach.
    clusters: [{ name: 'default', cluster: { server: i.endpoint, 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' } }],
    contexts: [{ name: 'default', context: { cluster: 'default', namespace: 'default', user: 'default' } }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }],
  });
  const sa: V1ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: KUBE_PROXY, namespace: 'kube-system' } };
  const proxier: V1ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeadm:node-proxier' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
    subjects: [{ kind: 'ServiceAccount', name: KUBE_PROXY, namespace: 'kube-system' }],
  };
  const cm: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: KUBE_PROXY, namespace: 'kube-system', labels: { app: KUBE_PROXY } }, data: { 'config.conf': config, 'kubeconfig.conf': kubeconfig } };
  const labels = { 'k8s-app': KUBE_PROXY };
  const ds: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: KUBE_PROXY, namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels },
        spec: {
          priorityClassName: 'system-node-critical',
          containers: [{
            name: KUBE_PROXY,
            image: i.kubeProxyImage,
            imagePullPolicy: 'IfNotPresent',
            command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
            securityContext: { privileged: true },
            env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            volumeMounts: [
              { mountPath: '/var/lib/kube-proxy', name: KUBE_PROXY },
              { mountPath: '/run/xtables.lock', name: 'xtables-lock', readOnly: false },
              { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
            ],
          }],
          hostNetwork: true,
          serviceAccountName: KUBE_PROXY,
          volumes: [
            { name: KUBE_PROXY, configMap: { name: KUBE_PROXY } },
            { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
            { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
          ],
          tolerations: [{ operator: 'Exists' }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
        },
      },
    },
  };
  return [sa, proxier, cm, ds];
}

/** Every object, in an order each can be applied in (namespaces kube-system and kube-public exist from the start). */
export function joinableObjects(i: JoinableInputs): KubernetesObject[] {
  const [id, secret] = i.token.split('.') as [string, string];
  const token: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    // No expiration: the token is the Cluster's (derived from its CA and uid, proto join-token.ts) and this
    // agent keeps it here while the Cluster has workers; it may do no more than join a node.
    data: {
      'token-id': b64(id),
      'token-secret': b64(secret),
      description: b64(`Outpost: joins the static workers of cluster ${i.clusterName}`),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64(BOOTSTRAP_GROUP),
    },
  };
  const clusterInfo: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig: clusterInfoKubeconfig(i.endpoint, i.caCertPem) } };
  const clusterConfiguration = stringify({
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'ClusterConfiguration',
    clusterName: i.clusterName,
    kubernetesVersion: i.kubernetesVersion,
    controlPlaneEndpoint: new URL(i.endpoint).host,
    certificatesDir: '/etc/kubernetes/pki',
    imageRepository: 'registry.k8s.io',
    networking: { podSubnet: i.podCidr, serviceSubnet: i.serviceCidr, dnsDomain: i.dnsDomain },
  });
  const objects: KubernetesObject[] = [
    token,
    clusterInfo,
    readConfigMap('kubeadm:bootstrap-signer-clusterinfo', 'kube-public', 'cluster-info'),
    binding('kubeadm:bootstrap-signer-clusterinfo', { kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' }, ['system:anonymous'], 'kube-public'),
    // Kubelet TLS bootstrap: a token may ask for a node client certificate, which is approved at once; a node renews its own.
    binding('kubeadm:kubelet-bootstrap', { kind: 'ClusterRole', name: 'system:node-bootstrapper' }, [BOOTSTRAP_GROUP]),
    binding('kubeadm:node-autoapprove-bootstrap', { kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient' }, [BOOTSTRAP_GROUP]),
    binding('kubeadm:node-autoapprove-certificate-rotation', { kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' }, [NODES_GROUP]),
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kubeadm:get-nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] } satisfies V1ClusterRole,
    binding('kubeadm:get-nodes', { kind: 'ClusterRole', name: 'kubeadm:get-nodes' }, [BOOTSTRAP_GROUP]),
    readConfigMap('kubeadm:nodes-kubeadm-config', 'kube-system', 'kubeadm-config'),
    binding('kubeadm:nodes-kubeadm-config', { kind: 'Role', name: 'kubeadm:nodes-kubeadm-config' }, [BOOTSTRAP_GROUP, NODES_GROUP], 'kube-system'),
    readConfigMap('kubeadm:kubelet-config', 'kube-system', 'kubelet-config'),
    binding('kubeadm:kubelet-config', { kind: 'Role', name: 'kubeadm:kubelet-config' }, [BOOTSTRAP_GROUP, NODES_GROUP], 'kube-system'),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: clusterConfiguration } } satisfies V1ConfigMap,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubelet-config', namespace: 'kube-system' }, data: { kubelet: stringify(kubeletConfiguration(i)) } } satisfies V1ConfigMap,
  ];
  return i.kubeProxyImage ? [...objects, ...kubeProxy({ ...i, kubeProxyImage: i.kubeProxyImage })] : objects;
}
