// The seed's default StorageClass: Rancher's local-path-provisioner (built by build-k8s.sh from the Go
// module proxy into outpost.local/local-path-provisioner) as a Deployment, which makes every volume a
// directory under the seed's own directory. So a PersistentVolumeClaim (a hosted control plane's etcd)
// binds as on a real seed, and teardown removes the volumes with the rest of the seed's files.
// Pure data: the manifest's text from the seed's directory, no I/O.
import { stringify } from 'yaml';

export const LOCAL_PATH_NAMESPACE = 'local-path-storage';
export const LOCAL_PATH_STORAGE_CLASS = 'local-path';
const NAME = 'local-path-provisioner';
const SERVICE_ACCOUNT = 'local-path-provisioner-service-account';
const CONFIG_MAP = 'local-path-config';

/** Where a seed's volumes live: inside its directory, which teardown empties. */
export const localPathRoot = (seedDir: string): string => `${seedDir}/volumes`;

/**
 * The provisioner's namespace, RBAC, ConfigMap and Deployment, and the StorageClass `local-path`
 * marked default, as one multi-document YAML for `kubectl apply -f`. The upstream deploy manifest
 * (deploy/local-path-storage.yaml), with the world's images (imported, never pulled) and paths.
 */
export function localPathManifest(opts: { seedDir: string; provisionerImage: string; helperImage: string }): string {
  const meta = (name: string) => ({ name, namespace: LOCAL_PATH_NAMESPACE });
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOCAL_PATH_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(SERVICE_ACCOUNT) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(`${NAME}-role`),
      // helper pods (which make and remove the volume directories) are the provisioner's own
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${NAME}-role` },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'persistentvolumeclaims', 'configmaps', 'pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    ...(['RoleBinding', 'ClusterRoleBinding'] as const).map((kind) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind,
      metadata: kind === 'RoleBinding' ? meta(`${NAME}-bind`) : { name: `${NAME}-bind` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole', name: `${NAME}-role` },
      subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: LOCAL_PATH_NAMESPACE }],
    })),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(CONFIG_MAP),
      data: {
        'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [localPathRoot(opts.seedDir)] }] }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'helper-pod' },
          spec: { containers: [{ name: 'helper-pod', image: opts.helperImage, imagePullPolicy: 'Never' }] },
        }),
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(NAME),
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: NAME } },
        template: {
          metadata: { labels: { app: NAME } },
          spec: {
            serviceAccountName: SERVICE_ACCOUNT,
            // a seed's storage must not wait behind its workloads
            priorityClassName: 'system-cluster-critical',
            containers: [
              {
                name: NAME,
                image: opts.provisionerImage,
                imagePullPolicy: 'Never',
                command: ['/usr/local/bin/local-path-provisioner', 'start', '--config', '/etc/config/config.json', '--helper-image', opts.helperImage],
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/config/' }],
                env: [
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'CONFIG_MOUNT_PATH', value: '/etc/config/' },
                ],
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: CONFIG_MAP } }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: LOCAL_PATH_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      // the volume is a directory on one node: bind it where the pod is scheduled
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
    },
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}
