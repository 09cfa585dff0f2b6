import { describe, expect, it } from 'vitest';
import type { ClusterPlan, PlannedHost } from './cluster-plan.js';
import { nodeStates } from './kubeadm-run.js';

const planned = (name: string, role: PlannedHost['role']): PlannedHost => ({ name, role, address: '10.0.0.1', target: { host: name, address: '10.0.0.1', port: 22, user: 'root', hostKey: '' } });
const cp = planned('cp0', 'control-plane');
const plan: ClusterPlan = { init: cp, controlPlane: [cp], workers: [planned('w0', 'worker'), planned('w1', 'worker')], all: [cp, planned('w0', 'worker'), planned('w1', 'worker')] };

describe('nodeStates', () => {
  it("says each planned host's node: Ready, NotReady, or Absent before it registers", () => {
    const json = JSON.stringify({
      items: [
        { metadata: { name: 'cp0' }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.34.4' } } },
        { metadata: { name: 'w0' }, status: { conditions: [{ type: 'Ready', status: 'False' }], nodeInfo: { kubeletVersion: 'v1.34.4' } } },
        { metadata: { name: 'stranger' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      ],
    });
    expect(nodeStates(json, plan)).toEqual([
      { host: 'cp0', role: 'control-plane', state: 'Ready', version: 'v1.34.4' },
      { host: 'w0', role: 'worker', state: 'NotReady', version: 'v1.34.4' },
      { host: 'w1', role: 'worker', state: 'Absent', version: '' },
    ]);
  });
});
