// The kubeadm configs the site agent writes. The real `kubeadm config validate` and `kubeadm config images
// list` read the same configs in test/e2e/site-generators.test.ts; here, the settings Outpost relies on.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SiteInputError } from './errors.js';
import { kubeadmInitArgv, kubeadmInitConfig, kubeadmJoinArgv, kubeadmJoinConfig, type KubeadmInitInputs, type KubeadmJoinInputs } from './kubeadm-config.js';
import { kubeadmImagePlan } from './kubeadm-images.js';

const components = {
  etcd: 'outpost.local/etcd:v3.6.16',
  'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4',
  'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.34.4',
  'kube-scheduler': 'outpost.local/kube-scheduler:v1.34.4',
  'kube-proxy': 'outpost.local/kube-proxy:v1.34.4',
  coredns: 'outpost.local/coredns:v1.12.1',
  pause: 'outpost.local/pause:test',
};
const images = kubeadmImagePlan({ release: '1.34.4', kubernetesVersion: '1.34.4', components, dns: true, proxy: true });
const token = 'abcdef.0123456789abcdef';
const key = 'f'.repeat(64);
const init = (over: Partial<KubeadmInitInputs> = {}): KubeadmInitInputs => ({
  clusterName: 'c1',
  images,
  controlPlaneEndpoint: '10.0.0.11:6443',
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  certSANs: ['api.c1.example', '192.0.2.7'],
  kubelet: { cgroupDriver: 'cgroupfs' },
  node: { name: 'host-1', address: '10.0.0.11' },
  bootstrapToken: { token, ttlSeconds: 3600 },
  ...over,
});
type Doc = Record<string, any>;
const docs = (yaml: string): Doc[] => parseAllDocuments(yaml).map((d) => d.toJS() as Doc);
type Kinds = Record<'InitConfiguration' | 'ClusterConfiguration' | 'JoinConfiguration' | 'KubeletConfiguration' | 'KubeProxyConfiguration', Doc>;
// Kinds a document set lacks read as undefined, which the assertions then show.
const byKind = (yaml: string) => Object.fromEntries(docs(yaml).map((d) => [d.kind as string, d])) as Kinds;
const inputError = (f: () => unknown): SiteInputError => {
  try {
    f();
  } catch (e) {
    if (e instanceof SiteInputError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('kubeadmInitConfig', () => {
  it('writes Init, Cluster, Kubelet and KubeProxy configurations of kubeadm v1beta4', () => {
    const d = docs(kubeadmInitConfig(init()));
    expect(d.map((x) => `${x.apiVersion} ${x.kind}`)).toEqual([
      'kubeadm.k8s.io/v1beta4 InitConfiguration',
      'kubeadm.k8s.io/v1beta4 ClusterConfiguration',
      'kubelet.config.k8s.io/v1beta1 KubeletConfiguration',
      'kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
    ]);
  });

  it('registers the host by its name and address over containerd, with a join token that expires', () => {
    const { InitConfiguration: i } = byKind(kubeadmInitConfig(init()));
    expect(i.localAPIEndpoint).toEqual({ advertiseAddress: '10.0.0.11', bindPort: 6443 });
    expect(i.nodeRegistration).toEqual({ name: 'host-1', criSocket: 'unix:///run/containerd/containerd.sock', imagePullPolicy: 'Never', kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.11' }] });
    expect(i.bootstrapTokens[0]).toMatchObject({ token, ttl: '3600s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] });
    expect(i.certificateKey).toBeUndefined();
    expect(byKind(kubeadmInitConfig(init({ certificateKey: key }))).InitConfiguration.certificateKey).toBe(key);
  });

  it('names the Release\'s images through imageRepository, etcd and dns, and the cluster\'s network', () => {
    const { ClusterConfiguration: c } = byKind(kubeadmInitConfig(init()));
    expect(c).toMatchObject({
      clusterName: 'c1',
      kubernetesVersion: 'v1.34.4',
      controlPlaneEndpoint: '10.0.0.11:6443',
      imageRepository: 'outpost.local',
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
      etcd: { local: { imageRepository: 'outpost.local', imageTag: 'v3.6.16' } },
      dns: { imageRepository: 'outpost.local', imageTag: 'v1.12.1' },
      apiServer: { certSANs: ['api.c1.example', '192.0.2.7'] },
    });
    expect(c.proxy).toBeUndefined();
    expect(byKind(kubeadmInitConfig(init({ certSANs: [] }))).ClusterConfiguration.apiServer).toBeUndefined();
    // Outpost gives nodes their pod CIDRs (the bridge network's routes need them first).
    expect(c.controllerManager).toEqual({ extraArgs: [{ name: 'allocate-node-cidrs', value: 'false' }] });
    expect(byKind(kubeadmInitConfig(init({ nodeCidrs: 'kube-controller-manager' }))).ClusterConfiguration.controllerManager).toBeUndefined();
  });

  it('disables DNS and kube-proxy in kubeadm when the image plan leaves them out, and writes no KubeProxyConfiguration', () => {
    const { 'kube-proxy': _p, coredns: _d, ...bare } = components;
    const plan = kubeadmImagePlan({ release: 'r', kubernetesVersion: '1.34.4', components: bare, dns: false, proxy: false });
    const k = byKind(kubeadmInitConfig(init({ images: plan })));
    expect(k.ClusterConfiguration?.dns).toEqual({ disabled: true });
    expect(k.ClusterConfiguration?.proxy).toEqual({ disabled: true });
    expect(k.KubeProxyConfiguration).toBeUndefined();
  });

  it('sets the cgroup driver, and lets kubelet run with swap only when asked', () => {
    expect(byKind(kubeadmInitConfig(init())).KubeletConfiguration).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'cgroupfs' });
    expect(byKind(kubeadmInitConfig(init({ kubelet: { cgroupDriver: 'systemd', swap: 'LimitedSwap' } }))).KubeletConfiguration).toMatchObject({ cgroupDriver: 'systemd', failSwapOn: false, memorySwap: { swapBehavior: 'LimitedSwap' } });
  });

  it('leaves the control-plane taint off a schedulable host and passes ignored preflight checks', () => {
    const i = byKind(kubeadmInitConfig(init({ node: { name: 'host-1', address: '10.0.0.11', schedulable: true, ignorePreflightErrors: ['Swap'] } }))).InitConfiguration;
    expect(i.nodeRegistration.taints).toEqual([]);
    expect(i.nodeRegistration.ignorePreflightErrors).toEqual(['Swap']);
  });

  it('refuses inputs kubeadm would refuse, naming the field', () => {
    expect(inputError(() => kubeadmInitConfig(init({ node: { name: 'Host_1', address: '10.0.0.11' } }))).field).toBe('node.name');
    expect(inputError(() => kubeadmInitConfig(init({ node: { name: 'h', address: '10.0.0' } }))).field).toBe('node.address');
    expect(inputError(() => kubeadmInitConfig(init({ controlPlaneEndpoint: '10.0.0.11' }))).field).toBe('controlPlaneEndpoint');
    expect(inputError(() => kubeadmInitConfig(init({ podSubnet: '10.244.0.0/33' }))).field).toBe('podSubnet');
    expect(inputError(() => kubeadmInitConfig(init({ bootstrapToken: { token: 'ABCDEF.0123456789abcdef', ttlSeconds: 60 } }))).field).toBe('bootstrapToken.token');
    expect(inputError(() => kubeadmInitConfig(init({ bootstrapToken: { token, ttlSeconds: 0 } }))).message).toContain('must expire');
    expect(inputError(() => kubeadmInitConfig(init({ certificateKey: 'abc' }))).field).toBe('certificateKey');
    expect(inputError(() => kubeadmInitConfig(init({ certSANs: ['bad name'] }))).field).toBe('certSANs[0]');
    expect(inputError(() => kubeadmInitConfig(init({ dnsDomain: 'Cluster Local' }))).field).toBe('dnsDomain');
    expect(inputError(() => kubeadmInitConfig(init({ clusterName: 'C1' }))).field).toBe('clusterName');
  });
});

describe('kubeadmJoinConfig', () => {
  const hash = `sha256:${'0'.repeat(64)}`;
  const join = (over: Partial<KubeadmJoinInputs> = {}): KubeadmJoinInputs => ({ node: { name: 'host-2', address: '10.0.0.12' }, apiServerEndpoint: '10.0.0.11:6443', token, caCertHashes: [hash], ...over });

  it('joins a worker by bootstrap token with the CA pinned', () => {
    const d = docs(kubeadmJoinConfig(join()));
    expect(d).toHaveLength(1);
    expect(d[0]).toEqual({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'JoinConfiguration',
      discovery: { bootstrapToken: { apiServerEndpoint: '10.0.0.11:6443', token, caCertHashes: [hash] } },
      nodeRegistration: { name: 'host-2', criSocket: 'unix:///run/containerd/containerd.sock', imagePullPolicy: 'Never', kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.12' }] },
    });
  });

  it('joins a control-plane member on its own address, with the certificate key when the init uploaded the certificates', () => {
    const j = docs(kubeadmJoinConfig(join({ controlPlane: { certificateKey: key } })))[0]!;
    expect(j.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: '10.0.0.12', bindPort: 6443 }, certificateKey: key });
    expect(docs(kubeadmJoinConfig(join({ controlPlane: {} })))[0]!.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: '10.0.0.12', bindPort: 6443 } });
  });

  it('refuses a join without a CA pin, or with a malformed one', () => {
    expect(inputError(() => kubeadmJoinConfig(join({ caCertHashes: [] }))).message).toContain('would trust any API server');
    expect(inputError(() => kubeadmJoinConfig(join({ caCertHashes: ['sha256:xyz'] }))).field).toBe('caCertHashes[0]');
    expect(inputError(() => kubeadmJoinConfig(join({ apiServerEndpoint: 'x:99999' }))).field).toBe('apiServerEndpoint');
  });
});

describe('argv', () => {
  it('runs kubeadm with the config, uploading certificates only when asked', () => {
    expect(kubeadmInitArgv({ config: '/etc/kubernetes/outpost-init.yaml' }, { uploadCerts: true })).toEqual(['/usr/local/bin/kubeadm', 'init', '--config', '/etc/kubernetes/outpost-init.yaml', '--upload-certs']);
    expect(kubeadmInitArgv({ config: 'c', kubeadm: '/k' }, { uploadCerts: false })).toEqual(['/k', 'init', '--config', 'c']);
    expect(kubeadmJoinArgv({ config: 'j' })).toEqual(['/usr/local/bin/kubeadm', 'join', '--config', 'j']);
  });
});
