// The built test-world binaries run, and are the pinned versions.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { binary, VERSIONS } from '../world/binaries.js';

const run = (name: string, ...args: string[]) => execFileSync(binary(name), args, { encoding: 'utf8' });

describe('test world binaries', () => {
  it('are the pinned Kubernetes version', () => {
    for (const cmd of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy']) {
      expect(run(cmd, '--version').trim()).toBe(`Kubernetes ${VERSIONS.kubernetes}`);
    }
    expect(run('kubeadm', 'version', '-o', 'short').trim()).toBe(VERSIONS.kubernetes);
    expect(run('kubectl', 'version', '--client', '-o', 'json')).toContain(`"gitVersion": "${VERSIONS.kubernetes}"`);
  });

  it('include etcd and the CNI plugins', () => {
    expect(run('etcd', '--version')).toContain(`etcd Version: ${VERSIONS.etcd.replace(/^v/, '')}`);
    for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) {
      const out = execFileSync(binary(plugin), [], { encoding: 'utf8', env: { CNI_COMMAND: 'VERSION' } });
      expect(JSON.parse(out).supportedVersions).toContain('1.0.0');
    }
  });
});
