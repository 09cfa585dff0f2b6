import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MAX_STATUS_CONDITIONS, pb, type Cluster, type Host, type ResourceObject, type Status } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { siteView } from '../store/views.js';
import { applyAgentStatus } from './agent-status.js';

const ctx = { actor: 'test' };
const obj = (kind: string, name: string, spec: object, namespace?: string): ResourceObject => ({
  apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec,
});
const VIEW = siteView('s1');
const NOW = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));
const STAMPED = '2025-06-01T12:00:00Z';

/** As the gateway hands it over: decoded from the frame the agent sent. */
const wire = (s: Status): Status => pb.Status.decode(pb.Status.encode(s).finish());

describe('applyAgentStatus', () => {
  let dir: string;
  let store: Store;
  let hostUid: string;
  const host = () => store.get<Host>('Host', '', 'h1')!;
  const cluster = () => store.get<Cluster>('Cluster', 'p', 'c1')!;
  const hostRef = () => ({ kind: 'Host', name: 'h1', uid: hostUid });
  const clusterRef = { kind: 'Cluster', namespace: 'p', name: 'c1' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-status-'));
    store = new Store(join(dir, 'hub.db'));
    for (const o of [obj('Project', 'p', {}), obj('Site', 's1', {}), obj('Site', 's2', {}), obj('Datacenter', 'dc1', { site: 's1' }),
      obj('Host', 'h1', { site: 's1', address: '10.0.0.1' }), obj('Host', 'h2', { site: 's2', address: '10.0.0.2' }),
      obj('Cluster', 'c1', { datacenter: 'dc1', version: '1.33.0' }, 'p')]) store.create(o, ctx);
    hostUid = host().metadata.uid ?? '';
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a Host's status as a HostStatus, with no Cluster field in it", () => {
    const refused = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: hostRef(), host: { cluster: 'c1', role: 'worker', observedGeneration: 1, conditions: [{ type: 'Joined', status: 'True' }] } }), NOW);
    expect(refused).toBeUndefined();
    expect(host().status).toEqual({ cluster: 'c1', role: 'worker', observedGeneration: 1, conditions: [{ type: 'Joined', status: 'True', observedGeneration: 1, lastTransitionTime: STAMPED }] });
  });

  it('writes nothing, and takes no revision, for a report that changes nothing', () => {
    const report = () => wire({ seq: 1, ref: hostRef(), host: { role: 'worker', conditions: [{ type: 'Joined', status: 'True', lastTransitionTime: STAMPED }] } });
    expect(applyAgentStatus(store, 'a1', VIEW, report(), NOW)).toBeUndefined();
    const revision = store.revision();
    expect(applyAgentStatus(store, 'a1', VIEW, report(), NOW)).toBeUndefined();
    expect(store.revision()).toBe(revision);
  });

  it('refuses a status with more conditions than are kept, or too large, and writes nothing', () => {
    const revision = store.revision();
    const conditions = (n: number, message = '') => Array.from({ length: n }, (_, i) => ({ type: `T${i}`, status: 'True', message }));
    const many = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: clusterRef, cluster: { phase: 'Running', conditions: conditions(MAX_STATUS_CONDITIONS + 1) } }), NOW);
    expect(many).toMatchObject({ code: ErrorCode.statusTooLarge });
    expect(many?.message).toMatch(/carries 65 conditions; at most 64 are kept/);
    const big = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 2, ref: clusterRef, cluster: { phase: 'Running', conditions: conditions(10, 'm'.repeat(8000)) } }), NOW);
    expect(big?.message).toMatch(/would be \d+ bytes of JSON; at most 65536 are kept/);
    expect(store.revision()).toBe(revision);
    expect(cluster().status).toBeUndefined();
  });

  it('counts the conditions already kept: new types sent a few at a time add up to the cap, not past it', () => {
    const some = (from: number) => Array.from({ length: 40 }, (_, i) => ({ type: `T${from + i}`, status: 'True' }));
    expect(applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: clusterRef, cluster: { conditions: some(0) } }), NOW)).toBeUndefined();
    const more = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 2, ref: clusterRef, cluster: { conditions: some(40) } }), NOW);
    expect(more?.message).toMatch(/would hold 80 conditions with the ones already recorded/);
    expect(cluster().status?.conditions).toHaveLength(40);
  });

  it('refuses a Host status with Cluster fields, naming each field, and writes nothing', () => {
    const before = host();
    const shaped = applyAgentStatus(store, 'a1', VIEW, { seq: 1, ref: hostRef(), host: { phase: 'Running' } } as unknown as Status, NOW);
    expect(shaped).toEqual({ code: 'INVALID_STATUS', message: 'status of Host h1 refused: host.phase: unknown field (known fields of HostStatus: conditions, cluster, role, observedGeneration)' });
    const misfiled = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 2, ref: hostRef(), cluster: { phase: 'Running', endpoint: 'https://x' } }), NOW);
    expect(misfiled?.code).toBe('INVALID_STATUS');
    expect(misfiled?.message).toMatch(/^status of Host h1 refused: cluster: carries a ClusterStatus, which is a Cluster's status; a Host's status goes in field host \(HostStatus\); host: is missing/);
    expect(host()).toEqual(before);
  });

  it('refuses objects outside the view, and kinds whose status is the hub\'s', () => {
    expect(applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: { kind: 'Host', name: 'h2' }, host: { role: 'worker' } }), NOW))
      .toEqual({ code: 'NOT_IN_VIEW', message: "Host h2 is not in this agent's view; status ignored" });
    expect(applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: { kind: 'Datacenter', name: 'dc1' } }), NOW))
      .toEqual({ code: 'INVALID_STATUS', message: 'status of Datacenter dc1 refused: ref.kind: Datacenter status is kept by the hub; agents report status for Cluster, Host only' });
  });

  it("keeps the agent's lastTransitionTime (in UTC seconds), stamps only a condition without one, and refuses an unparseable one", () => {
    const conditions = [
      { type: 'Received', status: 'True', lastTransitionTime: '2025-01-02T05:04:05.250+02:00' },
      { type: 'Ready', status: 'False' },
    ];
    expect(applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: clusterRef, cluster: { observedGeneration: 1, conditions } }), NOW)).toBeUndefined();
    expect(cluster().status?.conditions).toEqual([
      { type: 'Received', status: 'True', observedGeneration: 1, lastTransitionTime: '2025-01-02T03:04:05Z' },
      { type: 'Ready', status: 'False', observedGeneration: 1, lastTransitionTime: STAMPED },
    ]);
    const bad = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 2, ref: clusterRef, cluster: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'Tuesday' }] } }), NOW);
    expect(bad).toEqual({ code: 'INVALID_STATUS', message: 'status of Cluster p/c1 refused: cluster.conditions[0].lastTransitionTime: must be an RFC 3339 time such as "2025-01-02T03:04:05Z", not "Tuesday"' });
    expect(cluster().status?.conditions?.[1]?.status).toBe('False');
  });

  it("replaces the agent's fields, and merges conditions by type with the hub's own", () => {
    const hub = { type: 'ReleaseAvailable', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z' };
    store.replaceStatus({ kind: 'Cluster', namespace: 'p', name: 'c1' }, { phase: 'Creating', endpoint: 'https://old', conditions: [hub] }, ctx);
    applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: clusterRef, cluster: { phase: 'Running', observedGeneration: 1, lastErrors: [{ step: 'etcd', message: 'slow' }], conditions: [{ type: 'Received', status: 'True' }] } }), NOW);
    expect(cluster().status).toEqual({
      phase: 'Running', observedGeneration: 1, lastErrors: [{ step: 'etcd', message: 'slow' }],
      conditions: [hub, { type: 'Received', status: 'True', observedGeneration: 1, lastTransitionTime: STAMPED }],
    });
    // A later report without lastErrors clears them: the report is the agent's whole observation.
    const later = new Date(NOW.getTime() + 60_000);
    applyAgentStatus(store, 'a1', VIEW, wire({ seq: 2, ref: clusterRef, cluster: { phase: 'Running', observedGeneration: 1, conditions: [{ type: 'Received', status: 'True' }] } }), later);
    expect(cluster().status).toEqual({ phase: 'Running', observedGeneration: 1, conditions: [hub, { type: 'Received', status: 'True', observedGeneration: 1, lastTransitionTime: STAMPED }] });
  });

  it('ignores a status about an earlier object of the same name', () => {
    const stale = applyAgentStatus(store, 'a1', VIEW, wire({ seq: 1, ref: { ...hostRef(), uid: 'an-earlier-uid' }, host: { role: 'worker' } }), NOW);
    expect(stale).toBeUndefined();
    expect(host().status).toBeUndefined();
  });

  it("keeps a hosted Cluster's two reporters apart: the seed's fields and nodes, the workers' site's worker nodes, both agents' conditions", () => {
    for (const o of [obj('Seed', 'fra', {}), obj('Datacenter', 'dc-fra', { seed: 'fra' }),
      obj('Cluster', 'h', { datacenter: 'dc-fra', version: '1.33.0', controlPlane: { mode: 'hosted' }, workers: [{ name: 'w', hosts: ['h1'] }] }, 'p')]) store.create(o, ctx);
    const ref = { kind: 'Cluster', namespace: 'p', name: 'h' };
    const seed = (phase: string) => applyAgentStatus(store, 'seed-agent', 'seed/fra', wire({ seq: 1, ref, cluster: { phase, endpoint: 'https://10.0.0.9:30443', observedGeneration: 1, conditions: [{ type: 'APIServerReady', status: 'True', lastTransitionTime: STAMPED }] } }), NOW);
    const site = (state: string) => applyAgentStatus(store, 'site-agent', VIEW, wire({ seq: 1, ref, cluster: { phase: 'Creating', observedGeneration: 1, nodes: [{ host: 'h1', role: 'worker', state, version: 'v1.33.0' }, { host: 'x', role: 'control-plane', state: 'Ready' }], conditions: [{ type: 'WorkersJoined', status: state === 'Ready' ? 'True' : 'False', lastTransitionTime: STAMPED }] } }), NOW);
    const status = () => store.get<Cluster>('Cluster', 'p', 'h')!.status!;
    expect(seed('Creating')).toBeUndefined();
    expect(site('NotReady')).toBeUndefined();
    expect(seed('Running')).toBeUndefined();
    expect(site('Ready')).toBeUndefined();
    const s = status();
    // The site's phase and its claim on a control-plane node are not its to make.
    expect([s.phase, s.endpoint, s.observedGeneration]).toEqual(['Running', 'https://10.0.0.9:30443', 1]);
    expect(s.nodes).toEqual([{ host: 'h1', role: 'worker', state: 'Ready', version: 'v1.33.0' }]);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`).sort()).toEqual(['APIServerReady=True', 'WorkersJoined=True']);
    // The seed's next report (no nodes of its own) leaves the workers where they are.
    expect(seed('Running')).toBeUndefined();
    expect(status().nodes).toEqual([{ host: 'h1', role: 'worker', state: 'Ready', version: 'v1.33.0' }]);
  });
});
