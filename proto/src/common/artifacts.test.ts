import { describe, expect, it } from 'vitest';
import { describeMissing, missingArtifacts, requiredArtifacts } from './artifacts.js';

describe('requiredArtifacts', () => {
  const spec = { components: { 'kube-apiserver': 'r.io/kube-apiserver:v1.34.4', pause: 'r.io/pause:3.10' } };
  it('derives an image for every component, and the binaries and CNI plugins kubeadm needs', () => {
    const names = requiredArtifacts(spec).map((a) => `${a.type}:${a.name}`);
    expect(names).toEqual(['binary:kubeadm', 'binary:kubelet', 'binary:kubectl', 'cni:bridge', 'cni:host-local', 'cni:loopback', 'cni:portmap', 'image:r.io/kube-apiserver:v1.34.4', 'image:r.io/pause:3.10']);
  });
  it('names what an artifact list lacks, and why it is needed', () => {
    const artifacts = requiredArtifacts(spec).filter((a) => a.name !== 'r.io/pause:3.10' && a.name !== 'kubelet').map((a) => ({ type: a.type, name: a.name }));
    const missing = missingArtifacts({ ...spec, artifacts });
    expect(describeMissing(missing)).toBe('binary kubelet (every kubeadm host runs it), image r.io/pause:3.10 (spec.components.pause)');
    expect(missingArtifacts({ ...spec, artifacts: requiredArtifacts(spec) })).toEqual([]);
  });
});
