// Outpost's bridge pod network: each node's slice, its CNI config, and the routes between nodes.
import { describe, expect, it } from 'vitest';
import { hostPaths } from './host-paths.js';
import { assignPodCidrs, bridgeCniConfig, podEgressCommands, podNetworkScript, podNetworkUnit, podRouteCommands } from './pod-network.js';

describe('assignPodCidrs', () => {
  it('gives new nodes the lowest free /24 and never moves a given one', () => {
    const first = assignPodCidrs({ clusterPodCidr: '10.244.0.0/16', assigned: {}, nodes: ['b', 'a', 'c'] });
    expect(first).toEqual({ a: '10.244.0.0/24', b: '10.244.1.0/24', c: '10.244.2.0/24' });
    // a leaves, d and e come: d takes a's freed slice, the others stay put.
    expect(assignPodCidrs({ clusterPodCidr: '10.244.0.0/16', assigned: first, nodes: ['b', 'c', 'd', 'e'] })).toEqual({ b: '10.244.1.0/24', c: '10.244.2.0/24', d: '10.244.0.0/24', e: '10.244.3.0/24' });
  });

  it('takes another slice size, and says when the cluster CIDR is full', () => {
    expect(assignPodCidrs({ clusterPodCidr: '192.168.0.0/22', nodePrefix: 23, assigned: {}, nodes: ['a', 'b'] })).toEqual({ a: '192.168.0.0/23', b: '192.168.2.0/23' });
    expect(() => assignPodCidrs({ clusterPodCidr: '192.168.0.0/23', assigned: {}, nodes: ['a', 'b', 'c'] })).toThrow(/room for 2 nodes/);
  });

  it('refuses a given slice outside the cluster CIDR, of another size, or given twice, and a CIDR with host bits', () => {
    expect(() => assignPodCidrs({ clusterPodCidr: '10.244.0.0/16', assigned: { a: '10.1.0.0/24' }, nodes: ['a'] })).toThrow(/cannot change under running nodes/);
    expect(() => assignPodCidrs({ clusterPodCidr: '10.244.0.0/16', assigned: { a: '10.244.0.0/25' }, nodes: ['a'] })).toThrow(/not a \/24 slice/);
    expect(() => assignPodCidrs({ clusterPodCidr: '10.244.0.0/16', assigned: { a: '10.244.5.0/24', b: '10.244.5.0/24' }, nodes: ['a', 'b'] })).toThrow(/two nodes/);
    expect(() => assignPodCidrs({ clusterPodCidr: '10.244.1.0/16', assigned: {}, nodes: ['a'] })).toThrow(/10\.244\.0\.0\/16/);
    expect(() => assignPodCidrs({ clusterPodCidr: 'fd00::/64', assigned: {}, nodes: ['a'] })).toThrow(/IPv4/);
  });
});

describe('bridgeCniConfig', () => {
  it('is a bridge conflist with host-local addresses from the node\'s slice, unNATed, plus portmap', () => {
    const f = bridgeCniConfig(hostPaths(), { nodePodCidr: '10.244.3.0/24', clusterPodCidr: '10.244.0.0/16' });
    expect(f.path).toBe('/etc/cni/net.d/10-outpost-bridge.conflist');
    const conf = JSON.parse(f.content);
    expect(conf.cniVersion).toBe('1.0.0');
    expect(conf.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conf.plugins[0]).toMatchObject({ bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24' }]] } });
    expect(conf.plugins[1].capabilities).toEqual({ portMappings: true });
  });

  it('refuses a node slice outside the cluster CIDR', () => {
    expect(() => bridgeCniConfig(hostPaths(), { nodePodCidr: '10.245.3.0/24', clusterPodCidr: '10.244.0.0/16' })).toThrow(/not inside/);
  });
});

describe('routes and egress', () => {
  const nodes = [
    { name: 'a', address: '10.0.0.11', podCidr: '10.244.0.0/24' },
    { name: 'b', address: '10.0.0.12', podCidr: '10.244.1.0/24' },
    { name: 'c', address: '10.0.0.13', podCidr: '10.244.2.0/24' },
  ];

  it('routes each other node\'s slice through that node, and none to its own', () => {
    expect(podRouteCommands('b', nodes)).toEqual(['ip route replace 10.244.0.0/24 via 10.0.0.11', 'ip route replace 10.244.2.0/24 via 10.0.0.13']);
    expect(() => podRouteCommands('z', nodes)).toThrow(/not among/);
    expect(() => podRouteCommands('a', [...nodes, { name: 'd', address: 'x; reboot', podCidr: '10.244.3.0/24' }])).toThrow(/IPv4/);
  });

  it('masquerades only what leaves the cluster\'s pod CIDR, adding the rule once', () => {
    const [cmd] = podEgressCommands('10.244.0.0/16');
    expect(cmd).toBe(
      "iptables -t nat -C POSTROUTING -s 10.244.0.0/16 '!' -d 10.244.0.0/16 -m comment --comment 'outpost pod egress' -j MASQUERADE 2>/dev/null || " +
        "iptables -t nat -A POSTROUTING -s 10.244.0.0/16 '!' -d 10.244.0.0/16 -m comment --comment 'outpost pod egress' -j MASQUERADE",
    );
  });

  it('replays the routes and the egress rule at boot, stopping at the first that fails', () => {
    const script = podNetworkScript(hostPaths(), 'a', nodes, '10.244.0.0/16');
    expect(script).toMatchObject({ path: '/usr/local/bin/outpost-pod-network', mode: 0o755 });
    const lines = script.content.split('\n');
    expect(lines[0]).toBe('#!/bin/sh');
    expect(lines).toContain('set -e');
    expect(lines).toContain('ip route replace 10.244.1.0/24 via 10.0.0.12');
    expect(lines).toContain(podEgressCommands('10.244.0.0/16')[0]);
    const unit = podNetworkUnit(hostPaths());
    expect(unit.path).toBe('/etc/systemd/system/outpost-pod-network.service');
    expect(unit.content).toContain('Type=oneshot\nRemainAfterExit=yes\nExecStart=/usr/local/bin/outpost-pod-network\n');
    expect(unit.content).toContain('Before=kubelet.service');
  });
});
