import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiServerSans, cniConflist, containerdConfig, freeSlot, kubeletConfig, kubeProxyConfig, seedLayout } from './seed-config.js';

describe('seed layout', () => {
  it('keeps two seeds apart: namespaces, links, ranges and cgroups all differ', () => {
    const a = seedLayout(1, '/tmp/a');
    const b = seedLayout(2, '/tmp/b');
    for (const key of ['netns', 'hostVeth', 'gateway', 'nodeIp', 'nodeName', 'podCidr', 'serviceCidr', 'apiServiceIp', 'cgroupRoot'] as const) {
      expect(a[key]).not.toBe(b[key]);
    }
    expect(a.hostVeth.length).toBeLessThanOrEqual(15); // IFNAMSIZ
    expect(seedLayout(250, '/x').hostVeth.length).toBeLessThanOrEqual(15);
  });

  it('refuses slots outside the ranges it can address', () => {
    expect(() => seedLayout(0, '/x')).toThrow(/outside 1..250/);
    expect(() => seedLayout(251, '/x')).toThrow(/outside 1..250/);
  });

  it('picks the lowest slot whose namespace is free, reading `ip netns list` as it prints', () => {
    expect(freeSlot('')).toBe(1);
    expect(freeSlot('opseed-1 (id: 0)\nopseed-2\nop-1-0 (id: 3)\n')).toBe(3);
    expect(freeSlot('opseed-10 (id: 4)\n')).toBe(1);
  });

  it('signs the API server for its own address and the in-cluster service address', () => {
    const l = seedLayout(7, '/x');
    expect(apiServerSans(l)).toEqual(expect.arrayContaining(['10.214.7.1', '10.96.7.1', 'kubernetes.default.svc']));
  });
});

describe('seed configuration files', () => {
  const layout = seedLayout(3, '/w');

  it('gives containerd its own sockets and the CNI of this seed', () => {
    const toml = containerdConfig({ root: '/w/r', state: '/w/s', socket: '/w/c.sock', cniBinDir: '/cni', cniConfDir: '/w/net.d', sandboxImage: 'outpost.local/pause:test', runcRoot: '/w/runc' });
    expect(toml).toContain('Root = "/w/runc"');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('address = "/w/c.sock"');
    expect(toml).toContain('address = "/w/c.sock.ttrpc"');
    expect(toml).toContain('sandbox_image = "outpost.local/pause:test"');
    expect(toml).toContain('conf_dir = "/w/net.d"');
  });

  it('bridges pods on the seed pod range, masqueraded', () => {
    const conf = JSON.parse(cniConflist(layout, '/w/ipam')) as { plugins: Array<{ type: string; ipMasq?: boolean; ipam?: { ranges: Array<Array<{ subnet: string }>> } }> };
    expect(conf.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conf.plugins[0]!.ipMasq).toBe(true);
    expect(conf.plugins[0]!.ipam!.ranges[0]![0]!.subnet).toBe('10.244.3.0/24');
  });

  it('writes kubelet and kube-proxy configuration that parses and names this node', () => {
    const kubelet = parse(kubeletConfig(layout, 10250, { containerdSocket: '/w/c.sock', podLogsDir: '/w/pod-logs', certFile: '/c', keyFile: '/k', clientCaFile: '/ca' })) as Record<string, unknown>;
    expect(kubelet).toMatchObject({ kind: 'KubeletConfiguration', cgroupRoot: '/outpost-seed-3', failCgroupV1: false, address: '10.214.3.2', port: 10250, containerRuntimeEndpoint: 'unix:///w/c.sock', podLogsDir: '/w/pod-logs' });
    const proxy = parse(kubeProxyConfig(layout, '/w/p.kubeconfig')) as Record<string, unknown>;
    expect(proxy).toMatchObject({ kind: 'KubeProxyConfiguration', mode: 'iptables', clusterCIDR: '10.244.3.0/24', hostnameOverride: 'seed-3' });
  });
});
