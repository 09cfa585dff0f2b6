import type { V1ConfigMap, V1RoleBinding, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOOTSTRAP_GROUP, clusterDnsIp, joinableObjects } from './joinable.js';

const inputs = { clusterName: 'c1', kubernetesVersion: 'v1.34.4', endpoint: 'https://10.0.0.9:30443', caCertPem: 'CA', token: 'abcdef.0123456789abcdef', podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', dnsDomain: 'cluster.local' };
const find = <T>(objs: ReturnType<typeof joinableObjects>, kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;

describe('joinableObjects', () => {
  it("makes what kubeadm join reads, under kubeadm's names: the token Secret, cluster-info, kubeadm-config, kubelet-config", () => {
    const objs = joinableObjects(inputs);
    const token = find<V1Secret>(objs, 'Secret', 'bootstrap-token-abcdef');
    expect(token?.type).toBe('bootstrap.kubernetes.io/token');
    const data = Object.fromEntries(Object.entries(token?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(data).toMatchObject({ 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': BOOTSTRAP_GROUP });
    const info = parse(find<V1ConfigMap>(objs, 'ConfigMap', 'cluster-info')?.data?.kubeconfig ?? '');
    expect(info.clusters[0].cluster).toEqual({ server: inputs.endpoint, 'certificate-authority-data': Buffer.from('CA').toString('base64') });
    expect(info.users).toEqual([]);
    expect(parse(find<V1ConfigMap>(objs, 'ConfigMap', 'kubeadm-config')?.data?.ClusterConfiguration ?? '')).toMatchObject({ kind: 'ClusterConfiguration', kubernetesVersion: 'v1.34.4', controlPlaneEndpoint: '10.0.0.9:30443', networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' } });
    expect(parse(find<V1ConfigMap>(objs, 'ConfigMap', 'kubelet-config')?.data?.kubelet ?? '')).toMatchObject({ kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.10'], authentication: { x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' } } });
    // Anonymous may read cluster-info (discovery), bootstrappers the join ConfigMaps, and nothing more.
    expect(find<V1RoleBinding>(objs, 'RoleBinding', 'kubeadm:bootstrap-signer-clusterinfo')?.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:anonymous' }]);
    expect(objs.some((o) => o.kind === 'DaemonSet')).toBe(false);
  });

  it('adds kube-proxy, dialling the endpoint, when the Release has its image', () => {
    const objs = joinableObjects({ ...inputs, kubeProxyImage: 'outpost.local/kube-proxy:v1.34.4' });
    expect(find(objs, 'DaemonSet', 'kube-proxy')).toMatchObject({ spec: { template: { spec: { containers: [{ image: 'outpost.local/kube-proxy:v1.34.4' }] } } } });
    const cm = find<V1ConfigMap>(objs, 'ConfigMap', 'kube-proxy');
    expect(parse(cm?.data?.['kubeconfig.conf'] ?? '').clusters[0].cluster.server).toBe(inputs.endpoint);
    expect(parse(cm?.data?.['config.conf'] ?? '')).toMatchObject({ clusterCIDR: '10.244.0.0/16', mode: 'iptables' });
  });

  it('puts cluster DNS at the tenth address of the Service range', () => {
    expect(clusterDnsIp('10.96.0.0/12')).toBe('10.96.0.10');
    expect(clusterDnsIp('172.20.0.0/16')).toBe('172.20.0.10');
  });
});
