import type { ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { renderDescribe, title } from './describe.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('describe', () => {
  it('titles camelCase fields as kubectl describe does', () => {
    expect(title('controlPlane')).toBe('Control Plane');
    expect(title('podCidr')).toBe('Pod Cidr');
    expect(title('version')).toBe('Version');
  });

  it('shows a cluster: metadata, spec, status, conditions with times, last operation and errors', () => {
    const cluster = {
      apiVersion: 'outpost.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'pos', namespace: 'demo', uid: 'u-1', resourceVersion: '12', generation: 2, creationTimestamp: '2026-12-01T09:00:00Z', labels: { env: 'shop', tier: 'edge' }, finalizers: ['agent.outpost.dev/site.store-0412'] },
      spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 }, workers: [{ name: 'tills', hosts: ['h1', 'h2'] }], sshKeys: [] },
      status: {
        phase: 'Creating',
        observedGeneration: 2,
        conditions: [
          { type: 'Received', status: 'True', reason: 'InView', lastTransitionTime: '2026-12-01T11:59:00Z' },
          { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'kubeadm init on h1', lastTransitionTime: '2026-12-01T11:00:00Z' },
        ],
        lastOperation: { type: 'Create', state: 'Processing', progress: 40, step: 'kubeadm-init', lastUpdateTime: '2026-12-01T11:58:00Z' },
        lastErrors: [{ step: 'preflight', host: 'h2', message: 'swap is on', time: '2026-12-01T11:30:00Z' }],
      },
    } as unknown as ResourceObject;
    expect(renderDescribe(cluster, NOW)).toBe(
      [
        'Name:              pos',
        'Project:           demo',
        'Kind:              Cluster',
        'API Version:       outpost.dev/v1alpha1',
        'Labels:            env=shop',
        '                   tier=edge',
        'Annotations:       <none>',
        'UID:               u-1',
        'Resource Version:  12',
        'Generation:        2',
        'Created:           2026-12-01T09:00:00Z (3h ago)',
        'Finalizers:        agent.outpost.dev/site.store-0412',
        'Spec:',
        '  Version:     1.33.0',
        '  Datacenter:  hamburg-stores',
        '  Control Plane:',
        '    Mode:      kubeadm',
        '    Replicas:  1',
        '  Workers:',
        '    - Name:   tills',
        '      Hosts:  h1, h2',
        '  Ssh Keys:    <none>',
        'Status:',
        '  Phase:                Creating',
        '  Observed Generation:  2',
        'Conditions:',
        '  Type      Status  Reason        Last Transition                 Message',
        '  ----      ------  ------        ---------------                 -------',
        '  Received  True    InView        2026-12-01T11:59:00Z (60s ago)',
        '  Ready     False   Provisioning  2026-12-01T11:00:00Z (60m ago)  kubeadm init on h1',
        'Last Operation:',
        '  Type:      Create',
        '  State:     Processing',
        '  Progress:  40%',
        '  Step:      kubeadm-init',
        '  Updated:   2026-12-01T11:58:00Z (2m ago)',
        'Last Errors:',
        '  Step       Host  Time                            Message',
        '  ----       ----  ----                            -------',
        '  preflight  h2    2026-12-01T11:30:00Z (30m ago)  swap is on',
        '',
      ].join('\n'),
    );
  });

  it('says when an object is being deleted, and what holds it', () => {
    const site = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 's', deletionTimestamp: '2026-12-01T11:59:30Z', finalizers: ['outpost.dev/x'] }, spec: { location: 'Hamburg' } } as unknown as ResourceObject;
    const text = renderDescribe(site, NOW);
    expect(text).toContain('\nDeleting:          2026-12-01T11:59:30Z (30s ago), waiting for outpost.dev/x\n');
    expect(text).toContain('\nStatus:\n  <none>\nConditions:\n  <none>\n');
    expect(text).not.toContain('Last Operation');
  });

  it("shows an agent's presence in its own section, and never a token's secret", () => {
    const agent = {
      apiVersion: 'outpost.dev/v1alpha1',
      kind: 'Agent',
      metadata: { name: 'site-s-abc' },
      spec: { role: 'site', site: 's', revoked: false },
      status: { connected: true, connectedSince: '2026-12-01T11:00:00Z', lastSeen: '2026-12-01T11:59:55Z', address: '127.0.0.1', ackedRevision: 42, version: '0.1.0' },
    } as unknown as ResourceObject;
    const text = renderDescribe(agent, NOW);
    expect(text).toContain(
      'Status:\n  <none>\nPresence:\n  Connected:        true\n  Connected Since:  2026-12-01T11:00:00Z (60m ago)\n  Last Seen:        2026-12-01T11:59:55Z (5s ago)\n  Address:          127.0.0.1\n  Acked Revision:   42\n  Version:          0.1.0\n',
    );
    const token = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: { name: 'abcdef' }, spec: { type: 'api', role: 'admin' }, status: { used: false, token: 'abcdef.secretsecretsecret' } } as unknown as ResourceObject;
    expect(renderDescribe(token, NOW)).not.toContain('secretsecret');
  });
});
