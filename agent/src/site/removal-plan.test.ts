import type { NodeState } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import type { HostRecord } from '../reconcile/reconciler.js';
import { blockers } from './kubeadm-remove.js';
import { parseRecordedTarget, recordedTarget, removalPlan, type RemovalInputs } from './removal-plan.js';
import type { SshTarget } from './ssh/ssh-session.js';

const target = (host: string, address: string): SshTarget => ({ host, address, port: 22, user: 'root', hostKey: `SHA256:${host}` });
const rec = (host: string, role: string, joined: boolean, address = `10.0.0.${host.length}`): HostRecord => ({ host, role, joined, target: recordedTarget(target(host, address)) });
const node = (host: string, role: string, state = 'Ready'): NodeState => ({ host, role, state, version: 'v1.34.1' });
const inputs = (i: Partial<RemovalInputs>): RemovalInputs => ({ planned: new Set(['cp0', 'w0']), recorded: [], reported: [], nodes: new Set(['cp0', 'w0']), targetOf: () => undefined, ...i });

describe('removalPlan', () => {
  it('takes out a recorded worker the spec no longer names, reached where the agent recorded it', () => {
    const p = removalPlan(inputs({ recorded: [rec('cp0', 'control-plane', true), rec('w0', 'worker', true), rec('w1', 'worker', true, '10.0.0.21')], nodes: new Set(['cp0', 'w0', 'w1']) }));
    expect(p).toEqual({ workers: [{ name: 'w1', role: 'worker', joined: true, target: target('w1', '10.0.0.21') }], controlPlane: [] });
  });

  it("prefers the Host's address in the view to the recorded one (the Host may have moved)", () => {
    const p = removalPlan(inputs({ recorded: [rec('w1', 'worker', true, '10.0.0.21')], targetOf: (h) => (h === 'w1' ? target('w1', '10.0.9.9') : undefined) }));
    expect(p.workers[0]!.target?.address).toBe('10.0.9.9');
  });

  it('leaves every planned host alone, and needs nothing when nothing was let go', () => {
    expect(removalPlan(inputs({ recorded: [rec('cp0', 'control-plane', true), rec('w0', 'worker', true)], reported: [node('cp0', 'control-plane'), node('w0', 'worker')] }))).toEqual({ workers: [], controlPlane: [] });
  });

  it('resets a worker that was only installed on, with no node to drain', () => {
    expect(removalPlan(inputs({ recorded: [rec('w1', 'worker', false)] })).workers).toEqual([{ name: 'w1', role: 'worker', joined: false, target: target('w1', '10.0.0.2') }]);
  });

  it('believes status.nodes of a host the agent has no record of only while the cluster still has its node', () => {
    const reported = [node('cp0', 'control-plane'), node('w0', 'worker'), node('w1', 'worker')];
    // The view's status is as old as the last spec write: after the removal it still lists w1, whose node is gone.
    expect(removalPlan(inputs({ reported })).workers).toEqual([]);
    expect(removalPlan(inputs({ reported, nodes: undefined })).workers).toEqual([]);
    // Joined before the agent kept a record, its Host deleted too: drained and deleted, with nowhere to reset it.
    expect(removalPlan(inputs({ reported, nodes: new Set(['cp0', 'w0', 'w1']) })).workers).toEqual([{ name: 'w1', role: 'worker', joined: true }]);
    expect(removalPlan(inputs({ reported, nodes: new Set(['cp0', 'w0', 'w1']), targetOf: (h) => (h === 'w1' ? target('w1', '10.0.0.21') : undefined) })).workers[0]!.target?.address).toBe('10.0.0.21');
  });

  it('refuses a control-plane member, and resets one that never joined or whose node was taken out by hand', () => {
    const recorded = [rec('cp0', 'control-plane', true), rec('cp1', 'control-plane', true), rec('w0', 'worker', true)];
    const planned = new Set(['cp0', 'w0']);
    expect(removalPlan(inputs({ planned, recorded, nodes: new Set(['cp0', 'cp1', 'w0']) }))).toEqual({ workers: [], controlPlane: [{ name: 'cp1', role: 'control-plane', joined: true, target: target('cp1', '10.0.0.3') }] });
    // Nobody can tell whether it is a member: refused.
    expect(removalPlan(inputs({ planned, recorded, nodes: undefined })).controlPlane.map((h) => h.name)).toEqual(['cp1']);
    // Its node gone from a cluster that answers: no member, so reset as a worker would be, with no drain.
    expect(removalPlan(inputs({ planned, recorded, nodes: new Set(['cp0', 'w0']) }))).toEqual({ workers: [{ name: 'cp1', role: 'control-plane', joined: false, target: target('cp1', '10.0.0.3') }], controlPlane: [] });
    // A spec that named the wrong host before the cluster came up.
    expect(removalPlan(inputs({ planned: new Set(['cp9']), recorded: [rec('cp0', 'control-plane', false)], nodes: undefined }))).toEqual({ workers: [{ name: 'cp0', role: 'control-plane', joined: false, target: target('cp0', '10.0.0.3') }], controlPlane: [] });
  });
});

describe('recorded targets', () => {
  it('reads back what was written, bastion included, and nothing that is not a target', () => {
    const t: SshTarget = { ...target('w1', '10.0.0.21'), port: 2222, bastion: { address: '10.0.0.1', port: 22, user: 'ops', hostKey: 'SHA256:b' } };
    expect(parseRecordedTarget(recordedTarget(t))).toEqual(t);
    for (const bad of ['', 'not json', '{}', '{"host":"w1","address":"","port":22,"user":"root","hostKey":""}', '{"host":"w1","address":"a","port":"22","user":"root","hostKey":""}', `{"host":"w1","address":"a","port":22,"user":"root","hostKey":"","bastion":{}}`]) {
      expect(parseRecordedTarget(bad), bad).toBeUndefined();
    }
  });
});

describe('blockers', () => {
  it("keeps why kubectl drain could not evict each pod, once, and its verdict", () => {
    const budget = (pod: string) => `error when evicting pods/"${pod}" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`;
    const out = [
      'node/host-3 cordoned',
      'evicting pod default/held-1',
      budget('held-1'),
      'evicting pod default/held-1',
      budget('held-1'),
      'There are pending pods in node "host-3" when an error occurred: error when evicting pods/"held-1" -n "default": global timeout reached: 10s',
      'error: unable to drain node "host-3" due to error: error when evicting pods/"held-1" -n "default": global timeout reached: 10s, continuing command...',
      'There are pending nodes to be drained:',
      ' host-3',
      'error when evicting pods/"held-1" -n "default": global timeout reached: 10s',
    ].join('\n');
    expect(blockers(out)).toBe(`error when evicting pods/"held-1" -n "default": Cannot evict pod as it would violate the pod's disruption budget. | error: unable to drain node "host-3" due to error: error when evicting pods/"held-1" -n "default": global timeout reached: 10s, continuing command...`);
    const bare = 'node/w1 cordoned\nerror: unable to drain node "w1" due to error: cannot delete Pods declare no controller (use --force to override): default/x, continuing command...';
    expect(blockers(bare)).toBe('error: unable to drain node "w1" due to error: cannot delete Pods declare no controller (use --force to override): default/x, continuing command...');
    expect(blockers('something odd\nhappened')).toBe('something odd | happened');
    expect(blockers('')).toBe('(nothing)');
  });
});
