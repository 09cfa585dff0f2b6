import { describe, expect, it } from 'vitest';
import type { ClusterPlan, PlannedHost } from './cluster-plan.js';
import { kubeadmImagePlan } from './kubeadm-images.js';
import { applyNeeded, clusterConfigurationForUpgrade, DRAINED_ANNOTATION, hostUpgradeAction, parseNodes, upgradeSteps, upgradeWanted, UpgradeRefusedError, type NodeSnapshot } from './upgrade-plan.js';

const planned = (name: string, role: PlannedHost['role']): PlannedHost => ({ name, role, address: '10.0.0.1', target: { host: name, address: '10.0.0.1', port: 22, user: 'root', hostKey: '' } });
const [cp0, cp1, w0, w1] = [planned('cp0', 'control-plane'), planned('cp1', 'control-plane'), planned('w0', 'worker'), planned('w1', 'worker')];
const plan: ClusterPlan = { init: cp0, controlPlane: [cp0, cp1], workers: [w0, w1], all: [cp0, cp1, w0, w1] };
const node = (over: Partial<NodeSnapshot> = {}): NodeSnapshot => ({ name: 'w0', version: 'v1.34.3', ready: true, unschedulable: false, drainedFor: '', ...over });

describe('upgradeSteps', () => {
  it('loads images on every host first, then the first control plane, the others one by one, then each worker after the one before', () => {
    expect(upgradeSteps(plan).map((s) => `${s.name} <- ${s.dependsOn.join(',')}`)).toEqual([
      'upgrade-images:cp0 <- ',
      'upgrade-images:cp1 <- ',
      'upgrade-images:w0 <- ',
      'upgrade-images:w1 <- ',
      'upgrade-apply:cp0 <- upgrade-images:cp0,upgrade-images:cp1,upgrade-images:w0,upgrade-images:w1',
      'upgrade-node:cp1 <- upgrade-apply:cp0',
      'upgrade-worker:w0 <- upgrade-node:cp1',
      'upgrade-worker:w1 <- upgrade-worker:w0',
    ]);
  });
});

describe('hostUpgradeAction', () => {
  it('upgrades a node below the target, leaves one at it alone, and finishes the uncordon of one its drain marked', () => {
    expect(hostUpgradeAction(node(), 'v1.34.4')).toBe('upgrade');
    expect(hostUpgradeAction(node({ version: 'v1.34.4' }), 'v1.34.4')).toBe('done');
    expect(hostUpgradeAction(node({ version: 'v1.34.4', unschedulable: true }), 'v1.34.4')).toBe('done');
    expect(hostUpgradeAction(node({ version: 'v1.34.4', unschedulable: true, drainedFor: 'v1.34.4' }), '1.34.4')).toBe('uncordon');
    // Not a node yet: the kubeadm flow joins it at the new version.
    expect(hostUpgradeAction(undefined, 'v1.34.4')).toBe('absent');
  });

  it('refuses a node newer than the target, and one whose version is not one', () => {
    expect(() => hostUpgradeAction(node({ version: 'v1.34.5' }), 'v1.34.4')).toThrow(new UpgradeRefusedError('node w0 runs kubelet v1.34.5, newer than spec.version v1.34.4: kubeadm does not downgrade; set spec.version to v1.34.5 or later'));
    expect(() => hostUpgradeAction(node({ version: '' }), 'v1.34.4')).toThrow(/reports kubelet version "", which is not a Kubernetes version/);
  });
});

describe('applyNeeded', () => {
  it('applies while the stored configuration names an older version, and refuses a newer one', () => {
    expect(applyNeeded('v1.34.3', 'v1.34.4')).toBe(true);
    expect(applyNeeded('v1.34.4', 'v1.34.4')).toBe(false);
    expect(() => applyNeeded('v1.35.0', 'v1.34.4')).toThrow(/newer than spec.version v1.34.4: kubeadm does not downgrade/);
  });
});

describe('upgradeWanted', () => {
  const nodes = [
    { host: 'cp0', role: 'control-plane', state: 'Ready', version: 'v1.34.4' },
    { host: 'w0', role: 'worker', state: 'Ready', version: 'v1.34.3' },
  ];
  it('upgrades a cluster with a node at another version than spec.version, or whose upgrade the journal says was under way', () => {
    expect(upgradeWanted({ nodes, target: '1.34.4', resuming: false })).toBe(true);
    expect(upgradeWanted({ nodes: nodes.map((n) => ({ ...n, version: 'v1.34.4' })), target: '1.34.4', resuming: false })).toBe(false);
    expect(upgradeWanted({ nodes: nodes.map((n) => ({ ...n, version: 'v1.34.4' })), target: '1.34.4', resuming: true })).toBe(true);
    // A new node not registered yet says no version: it joins at the new one; a cluster not made yet has none.
    expect(upgradeWanted({ nodes: [{ ...nodes[0]!, version: '' }], target: '1.34.4', resuming: false })).toBe(false);
    expect(upgradeWanted({ nodes: [], target: '1.34.4', resuming: false })).toBe(false);
  });
});

describe('parseNodes', () => {
  it('reads version, readiness, the cordon and the drain mark, from a list or a single node', () => {
    const one = { metadata: { name: 'w0', annotations: { [DRAINED_ANNOTATION]: 'v1.34.4' } }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.3' } } };
    expect(parseNodes(JSON.stringify({ items: [one, { metadata: { name: 'w1' } }] }))).toEqual(
      new Map([
        ['w0', { name: 'w0', version: 'v1.34.3', ready: true, unschedulable: true, drainedFor: 'v1.34.4' }],
        ['w1', { name: 'w1', version: '', ready: false, unschedulable: false, drainedFor: '' }],
      ]),
    );
    expect(parseNodes(JSON.stringify(one)).get('w0')?.drainedFor).toBe('v1.34.4');
  });
});

describe('clusterConfigurationForUpgrade', () => {
  const components = (etcd: string) => ({
    etcd,
    'kube-apiserver': 'registry.example/kube-apiserver:v1.34.4',
    'kube-controller-manager': 'registry.example/kube-controller-manager:v1.34.4',
    'kube-scheduler': 'registry.example/kube-scheduler:v1.34.4',
    pause: 'registry.example/pause:3.10.1',
  });
  const images = (etcd: string) => kubeadmImagePlan({ release: '1.34.4', kubernetesVersion: '1.34.4', components: components(etcd), dns: false, proxy: false });
  const stored = ['apiVersion: kubeadm.k8s.io/v1beta4', 'kind: ClusterConfiguration', 'kubernetesVersion: v1.34.3', 'imageRepository: outpost.local', 'etcd:', '  local:', '    dataDir: /var/lib/etcd', '    imageRepository: outpost.local', '    imageTag: v3.6.16', 'dns:', '  disabled: true', ''].join('\n');

  it("puts the new Release's images in, keeps the rest and the version (the apply writes it), and says whether etcd changes", () => {
    const u = clusterConfigurationForUpgrade(stored, images('registry.example/etcd:v3.6.16'));
    expect(u.currentVersion).toBe('v1.34.3');
    expect(u.etcdChanged).toBe(true);
    expect(u.dnsDisabled).toBe(true);
    expect(u.yaml).toContain('imageRepository: registry.example');
    expect(u.yaml).toContain('    dataDir: /var/lib/etcd\n    imageRepository: registry.example\n    imageTag: v3.6.16');
    expect(u.yaml).toContain('kubernetesVersion: v1.34.3');
    expect(u.yaml).toContain('dns:\n  disabled: true');
  });

  it('changes nothing when the Release keeps the images, so etcd is left alone', () => {
    const same = stored.replaceAll('outpost.local', 'registry.example');
    expect(clusterConfigurationForUpgrade(same, images('registry.example/etcd:v3.6.16'))).toEqual({ yaml: undefined, currentVersion: 'v1.34.3', etcdChanged: false, dnsDisabled: true });
  });
});
