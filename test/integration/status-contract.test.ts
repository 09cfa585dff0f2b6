// Status as each kind's own typed message, end to end: a Host status from a site's agent is stored as a
// HostStatus (before, the hub merged it as a Cluster's and the Host could no longer be PUT back: 422
// "status.phase: unknown field"); condition times stamped by the agent are the ones the hub keeps; a
// status that does not fit its kind is refused naming the field, and still acked. Once with the gateway
// in the hub process and once in a gateway process, where statuses reach the primary over IPC.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { checkResourceShape, decodeEnvelope, encodeEnvelope, findKind, type Cluster, type Envelope, type Host, type ResourceObject } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentLastStatus } from '../lib/agent-state.js';
import { cluster, datacenter, host, project, site } from '../lib/fixtures.js';
import { OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;
const JOINED_AT = '2025-03-01T10:00:00Z';
const READY_AT = '2025-03-01T10:05:00Z';
const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe.each([0, 1])('typed status, %i gateway processes', (gatewayProcesses) => {
  let hub: TestHub;
  let agent: TestAgent;
  let credential: string;

  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses });
    await hub.apply(
      project('p'),
      site('s1'), datacenter('dc1', { site: 's1' }), cluster('c1', 'p', 'dc1'),
      site('s2'), datacenter('dc2', { site: 's2' }), host('h2', 's2'), cluster('c2', 'p', 'dc2'),
    );
    agent = (await TestAgent.join(hub, { site: 's1' }, 'a1')).start();
    // The s2 agent's credential, spoken by hand below: the real agent reports no Host status yet.
    const token = await hub.bootstrapToken({ site: 's2' });
    const dir = join(hub.dir, 'raw');
    expect((await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', token, '--ca-hash', hub.caHash, '--data', dir])).code).toBe(0);
    ({ credential } = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as { credential: string });
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  /** One admin API call, with its HTTP status (the API client only says whether it was 2xx). */
  function http<T>(method: string, kind: string, name: string, namespace?: string, body?: unknown): Promise<{ code: number; body: T }> {
    const k = K(kind);
    const path = `/apis/outpost.dev/v1alpha1/${k.namespaced ? `namespaces/${namespace}/` : ''}${k.plural}/${name}`;
    return new Promise((resolve, reject) => {
      const req = request(`${hub.url}${path}`, { method, ca: hub.caCertPem, headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as T }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Speaks the wire as the s2 agent: Hello, then `statuses`; resolves with every frame once all are acked. */
  function report(statuses: NonNullable<Envelope['status']>[]): Promise<ReturnType<typeof decodeEnvelope>[]> {
    const last = Math.max(...statuses.map((s) => s.seq ?? 0));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${hub.port}/agent/v1`, { ca: hub.caCertPem, headers: { authorization: `Bearer ${credential}` } });
      const got: ReturnType<typeof decodeEnvelope>[] = [];
      ws.on('open', () => {
        ws.send(encodeEnvelope({ hello: { agentId: '', protocolMajor: 1, version: 'test' } }));
        for (const status of statuses) ws.send(encodeEnvelope({ status }));
      });
      ws.on('message', (d: Buffer) => {
        got.push(decodeEnvelope(d));
        if (got.some((f) => (f.ack?.statusSeq ?? 0) >= last)) {
          ws.close();
          resolve(got);
        }
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`no Ack for status ${last}; got ${got.map((f) => f.body).join(', ')}`)), 20_000).unref();
    });
  }

  it("stores the real agent's Cluster status with the transition time the agent stamped, and keeps it across generations", async () => {
    const received = async (generation: number) => waitFor(`Received at generation ${generation}`, async () => {
      const c = await hub.api().get<Cluster>(K('clusters'), 'c1', 'p');
      return c.status?.conditions?.find((x) => x.type === 'Received' && x.observedGeneration === generation);
    });
    const first = await received(1);
    expect(first.lastTransitionTime).toMatch(RFC3339_SECONDS);
    // The time is the agent's: the same as in the report it keeps.
    const kept = agentLastStatus(agent.dataDir, 'Cluster', 'p', 'c1') as { cluster: Cluster['status'] };
    expect(kept.cluster?.conditions?.[0]?.lastTransitionTime).toBe(first.lastTransitionTime);
    await hub.api().patch(K('clusters'), 'c1', { spec: { version: '1.33.1' } }, 'p');
    const second = await received(2);
    expect(second.lastTransitionTime).toBe(first.lastTransitionTime);
    const c1 = await http<Cluster>('GET', 'clusters', 'c1', 'p');
    expect(c1.code).toBe(200);
    expect(c1.body.status?.observedGeneration).toBe(2);
  });

  it('stores a Host status as a HostStatus with the time the agent sent; GET and PUT of the Host answer 200 (the 422 regression)', async () => {
    const h2 = await hub.api().get<Host>(K('hosts'), 'h2');
    const frames = await report([
      { seq: 1, ref: { kind: 'Host', name: 'h2', uid: h2.metadata.uid ?? '' }, host: { cluster: 'c2', role: 'control-plane', observedGeneration: 1, conditions: [{ type: 'Joined', status: 'True', reason: 'KubeadmJoined', lastTransitionTime: JOINED_AT }] } },
      { seq: 2, ref: { kind: 'Cluster', namespace: 'p', name: 'c2' }, cluster: { phase: 'Running', observedGeneration: 1, endpoint: 'https://10.213.0.10:6443', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: READY_AT }] } },
    ]);
    expect(frames.filter((f) => f.error)).toEqual([]);
    expect(frames.filter((f) => f.ack).map((f) => f.ack?.statusSeq)).toEqual([1, 2]);

    const got = await http<Host>('GET', 'hosts', 'h2');
    expect(got.code).toBe(200);
    expect(got.body.status).toEqual({
      cluster: 'c2', role: 'control-plane', observedGeneration: 1,
      conditions: [{ type: 'Joined', status: 'True', reason: 'KubeadmJoined', observedGeneration: 1, lastTransitionTime: JOINED_AT }],
    });
    expect(() => checkResourceShape(K('hosts'), got.body)).not.toThrow();
    const put = await http<Host>('PUT', 'hosts', 'h2', undefined, { ...got.body, metadata: { ...got.body.metadata, labels: { rack: 'r1' } } });
    expect(put.code).toBe(200);
    expect(put.body.metadata.labels).toEqual({ rack: 'r1' });
    expect(put.body.status).toEqual(got.body.status);

    const c2 = await http<Cluster>('GET', 'clusters', 'c2', 'p');
    expect(c2.code).toBe(200);
    expect(c2.body.status?.phase).toBe('Running');
    expect(c2.body.status?.endpoint).toBe('https://10.213.0.10:6443');
    expect(c2.body.status?.conditions?.find((c) => c.type === 'Ready')).toEqual({ type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: READY_AT });
    // The hub's own condition stays beside the agent's.
    expect(c2.body.status?.conditions?.find((c) => c.type === 'ReleaseAvailable')?.status).toBe('False');
    expect((await http<ResourceObject>('PUT', 'clusters', 'c2', 'p', c2.body)).code).toBe(200);
  });

  it("refuses a Host status in the Cluster's field naming the field, acks it, and leaves the Host as it was", async () => {
    const before = await hub.api().get<Host>(K('hosts'), 'h2');
    const frames = await report([
      { seq: 3, ref: { kind: 'Host', name: 'h2' }, cluster: { phase: 'Running' } },
      { seq: 4, ref: { kind: 'Host', name: 'h2' }, host: { conditions: [{ type: 'Joined', status: 'False', lastTransitionTime: 'last Tuesday' }] } },
    ]);
    const errors = frames.filter((f) => f.error).map((f) => f.error);
    expect(errors.map((e) => e?.code)).toEqual(['INVALID_STATUS', 'INVALID_STATUS']);
    expect(errors[0]?.message).toMatch(/^status of Host h2 refused: cluster: carries a ClusterStatus, which is a Cluster's status; a Host's status goes in field host \(HostStatus\)/);
    expect(errors[1]?.message).toBe('status of Host h2 refused: host.conditions[0].lastTransitionTime: must be an RFC 3339 time such as "2025-01-02T03:04:05Z", not "last Tuesday"');
    expect(frames.filter((f) => f.ack).map((f) => f.ack?.statusSeq)).toEqual([3, 4]);
    expect(await hub.api().get<Host>(K('hosts'), 'h2')).toEqual(before);
  });
});
