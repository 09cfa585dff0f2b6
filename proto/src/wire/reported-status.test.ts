import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import { pb, type Status } from '../schema.js';
import { decodeEnvelope, encodeEnvelope } from './codec.js';
import { checkReportedStatus } from './reported-status.js';

const hostRef = { kind: 'Host', name: 'h1', uid: 'u1' };

function problems(status: unknown): string[] {
  try {
    checkReportedStatus(status);
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaError);
    return (e as SchemaError).problems.map((p) => `${p.field}: ${p.message}`);
  }
  return [];
}

describe('the typed Status on the wire', () => {
  it('round-trips a Host and a Cluster status through the codec', () => {
    const host: Status = { seq: 4, ref: hostRef, host: { cluster: 'pos', role: 'worker', observedGeneration: 2, conditions: [{ type: 'Joined', status: 'True', lastTransitionTime: '2025-01-02T03:04:05Z' }] } };
    const back = decodeEnvelope(encodeEnvelope({ status: host })).status!;
    expect(back.status).toBe('host');
    expect(pb.Status.toObject(back as InstanceType<typeof pb.Status>, { longs: Number })).toEqual(host);
    const cluster: Status = { seq: 5, ref: { kind: 'Cluster', namespace: 'p', name: 'c' }, cluster: { phase: 'Running', observedGeneration: 3, endpoint: 'https://10.0.0.1:6443' } };
    const back2 = decodeEnvelope(encodeEnvelope({ status: cluster })).status!;
    expect(back2.status).toBe('cluster');
    expect(checkReportedStatus(back2)).toEqual({ kind: { kind: 'Cluster', field: 'cluster', type: 'ClusterStatus' }, body: cluster.cluster });
  });

  it("reads an early agent's Cluster-shaped fields (3-6) as unknown, so its status has no body", () => {
    // field 4 (phase) = "Running", as the Status before the oneof had it
    const early = new Uint8Array([...pb.Status.encode({ seq: 1, ref: { kind: 'Cluster', name: 'c' } }).finish(), 0x22, 7, ...new TextEncoder().encode('Running')]);
    const decoded = pb.Status.decode(early);
    expect(decoded.status).toBeUndefined();
    expect(problems(decoded)).toEqual([expect.stringMatching(/^cluster: is missing: a Cluster's status goes in field cluster \(ClusterStatus\)/)]);
  });
});

describe('checkReportedStatus', () => {
  it('accepts a status in its kind field, decoded or plain', () => {
    expect(checkReportedStatus({ seq: 1, ref: hostRef, host: { role: 'worker' } }).kind.field).toBe('host');
    expect(checkReportedStatus({ seq: 1, ref: hostRef, status: 'host', host: { role: 'worker' } }).body).toEqual({ role: 'worker' });
  });

  it("refuses a Host status carrying Cluster fields, naming each field", () => {
    expect(problems({ seq: 1, ref: hostRef, host: { phase: 'Running', endpoint: 'x' } })).toEqual([
      'host.phase: unknown field (known fields of HostStatus: conditions, cluster, role, observedGeneration)',
      'host.endpoint: unknown field (known fields of HostStatus: conditions, cluster, role, observedGeneration)',
    ]);
    expect(problems(pb.Status.decode(pb.Status.encode({ seq: 1, ref: hostRef, cluster: { phase: 'Running' } }).finish()))).toEqual([
      "cluster: carries a ClusterStatus, which is a Cluster's status; a Host's status goes in field host (HostStatus)",
      expect.stringMatching(/^host: is missing/),
    ]);
    expect(problems({ seq: 1, ref: hostRef, phase: 'Running' })[0]).toMatch(/^phase: unknown field \(known fields of Status: seq, ref, cluster, host, finalized\)/);
  });

  it('refuses kinds whose status is the hub\'s', () => {
    expect(problems({ seq: 1, ref: { kind: 'Datacenter', name: 'dc' } })).toEqual(['ref.kind: Datacenter status is kept by the hub; agents report status for Cluster, Host only']);
    expect(problems({ seq: 1 })).toEqual(['ref.kind: is required; agents report status for Cluster, Host only']);
  });

  it('refuses conditions without a type, twice the same type, a bad status or an unparseable time', () => {
    const conditions = [
      { type: 'Ready', status: 'True', lastTransitionTime: '2025-02-30T00:00:00Z' },
      { type: 'Ready', status: 'True' },
      { status: 'Yes' },
    ];
    expect(problems({ ref: hostRef, host: { conditions } })).toEqual([
      'host.conditions[0].lastTransitionTime: must be an RFC 3339 time such as "2025-01-02T03:04:05Z", not "2025-02-30T00:00:00Z"',
      'host.conditions[1].type: "Ready" appears more than once; send one condition per type',
      'host.conditions[2].type: is required (the condition type, e.g. "Ready")',
      'host.conditions[2].status: must be True, False or Unknown, not "Yes"',
    ]);
  });
});
