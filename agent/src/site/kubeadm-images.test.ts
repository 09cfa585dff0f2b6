// How a Release's images become kubeadm's settings, and the Releases kubeadm cannot run. The real
// `kubeadm config images list` checks the same plans in test/e2e/site-generators.test.ts.
import { describe, expect, it } from 'vitest';
import { SiteReleaseError } from './errors.js';
import { kubeadmImagePlan, listedPauseTag, type KubeadmImageInputs } from './kubeadm-images.js';

// The test world's Release at v1.34.4 (test/world/releases.ts), plus a CoreDNS.
const world: Record<string, string> = {
  etcd: 'outpost.local/etcd:v3.6.16',
  'kube-apiserver': 'outpost.local/kube-apiserver:v1.34.4',
  'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.34.4',
  'kube-scheduler': 'outpost.local/kube-scheduler:v1.34.4',
  'kube-proxy': 'outpost.local/kube-proxy:v1.34.4',
  coredns: 'outpost.local/coredns:v1.12.1',
  pause: 'outpost.local/pause:test',
};
const input = (over: Partial<KubeadmImageInputs> = {}): KubeadmImageInputs => ({ release: '1.34.4', kubernetesVersion: '1.34.4', components: world, dns: true, proxy: true, ...over });
const failure = (over: Partial<KubeadmImageInputs>): SiteReleaseError => {
  try {
    kubeadmImagePlan(input(over));
  } catch (e) {
    if (e instanceof SiteReleaseError) return e;
    throw e;
  }
  throw new Error('kubeadmImagePlan accepted the Release');
};

describe('kubeadmImagePlan', () => {
  it('turns the world Release into kubeadm settings that list exactly its images, in kubeadm\'s order', () => {
    const plan = kubeadmImagePlan(input());
    expect(plan.kubernetesVersion).toBe('v1.34.4');
    expect(plan.imageRepository).toBe('outpost.local');
    expect(plan.etcd).toEqual({ imageRepository: 'outpost.local', imageTag: 'v3.6.16' });
    expect(plan.dns).toEqual({ imageRepository: 'outpost.local', imageTag: 'v1.12.1' });
    expect(plan.images).toEqual([
      'outpost.local/kube-apiserver:v1.34.4',
      'outpost.local/kube-controller-manager:v1.34.4',
      'outpost.local/kube-scheduler:v1.34.4',
      'outpost.local/kube-proxy:v1.34.4',
      'outpost.local/coredns:v1.12.1',
      'outpost.local/pause:3.10.1',
      'outpost.local/etcd:v3.6.16',
    ]);
    expect(plan.sandboxImage).toBe('outpost.local/pause:test');
    // kubeadm cannot be told the Release's pause: it is tagged under kubeadm's name too.
    expect(plan.aliases).toEqual([{ component: 'pause', source: 'outpost.local/pause:test', target: 'outpost.local/pause:3.10.1' }]);
  });

  it('takes etcd and CoreDNS from their own repositories, and needs no alias when the pause is kubeadm\'s', () => {
    const plan = kubeadmImagePlan(input({ components: { ...world, etcd: 'registry.k8s.io/etcd:3.6.5-0', coredns: 'registry.k8s.io/coredns/coredns:v1.12.1', pause: 'outpost.local/pause:3.10.1' } }));
    expect(plan.etcd).toEqual({ imageRepository: 'registry.k8s.io', imageTag: '3.6.5-0' });
    expect(plan.dns).toEqual({ imageRepository: 'registry.k8s.io/coredns', imageTag: 'v1.12.1' });
    expect(plan.aliases).toEqual([]);
  });

  it('leaves kube-proxy and CoreDNS out when the cluster runs without them', () => {
    const { 'kube-proxy': _p, coredns: _d, ...bare } = world;
    const plan = kubeadmImagePlan(input({ components: bare, dns: false, proxy: false }));
    expect(plan.dns).toBeUndefined();
    expect(plan.proxy).toBe(false);
    expect(plan.images.some((i) => /kube-proxy|coredns/.test(i))).toBe(false);
  });

  it('names each missing component and what to add (the world\'s previous version has no kube-proxy, no Release has CoreDNS)', () => {
    const { 'kube-proxy': _p, coredns: _d, ...bare } = world;
    const e = failure({ components: bare });
    expect(e.components).toEqual(['kube-proxy', 'coredns']);
    expect(e.message).toContain('add spec.components.kube-proxy: "outpost.local/kube-proxy:v1.34.4"');
    expect(e.message).toContain('add spec.components.coredns');
    expect(e.message).toContain('Release 1.34.4');
    const { pause: _x, ...noPause } = world;
    expect(failure({ components: noPause }).components).toEqual(['pause']);
  });

  it('refuses a control-plane image kubeadm cannot name: another repository, tag or name, or a digest', () => {
    expect(failure({ components: { ...world, 'kube-scheduler': 'other.registry/kube-scheduler:v1.34.4' } }).message).toContain('make it "outpost.local/kube-scheduler:v1.34.4"');
    expect(failure({ components: { ...world, 'kube-proxy': 'outpost.local/kube-proxy:v1.34.3' } }).components).toEqual(['kube-proxy']);
    expect(failure({ components: { ...world, 'kube-apiserver': 'outpost.local/apiserver:v1.34.4' } }).components).toEqual(['kube-apiserver']);
    expect(failure({ components: { ...world, 'kube-apiserver': `outpost.local/kube-apiserver@sha256:${'a'.repeat(64)}` } }).message).toContain('pinned by digest');
    expect(failure({ components: { ...world, etcd: 'outpost.local/etcd-server:v3.6.16' } }).message).toContain('retag it so, such as "outpost.local/etcd:v3.6.16"');
    expect(failure({ components: { ...world, coredns: 'coredns:v1.12.1' } }).message).toContain('names no repository');
  });

  it('refuses a version it cannot tag images by, and a minor whose pause tag it does not know unless told', () => {
    expect(failure({ kubernetesVersion: 'latest' }).message).toContain('not a Kubernetes version');
    const v = { ...world, 'kube-apiserver': 'outpost.local/kube-apiserver:v1.40.0', 'kube-controller-manager': 'outpost.local/kube-controller-manager:v1.40.0', 'kube-scheduler': 'outpost.local/kube-scheduler:v1.40.0', 'kube-proxy': 'outpost.local/kube-proxy:v1.40.0' };
    expect(failure({ kubernetesVersion: 'v1.40.0', components: v }).message).toContain('kubeadmPauseTag');
    expect(kubeadmImagePlan(input({ kubernetesVersion: 'v1.40.0', components: v, kubeadmPauseTag: '3.11' })).images).toContain('outpost.local/pause:3.11');
  });
});

describe('listedPauseTag', () => {
  it('reads the pause tag from `kubeadm config images list` output', () => {
    expect(listedPauseTag('registry.k8s.io/kube-apiserver:v1.34.4\nregistry.k8s.io/coredns/coredns:v1.12.1\nregistry.k8s.io/pause:3.10.1\nregistry.k8s.io/etcd:3.6.5-0\n')).toBe('3.10.1');
    expect(listedPauseTag('registry.k8s.io/etcd:3.6.5-0\n')).toBeUndefined();
  });
});
