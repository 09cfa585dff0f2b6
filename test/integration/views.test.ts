// View isolation: an agent holds its Seed's or Site's objects and every Release, never another's.
import { ApiError } from '@outpost/hub';
import { findKind } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentObjects, names } from '../lib/agent-state.js';
import { cluster, datacenter, project, release, seed, siteWorld } from '../lib/fixtures.js';
import { unreachableSeedKubeconfig } from '../lib/seed-kubeconfig.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;

describe('views', () => {
  let hub: TestHub;
  let a: TestAgent;
  let b: TestAgent;
  let s: TestAgent;

  const expectedA = ['Cluster/p/cl-a', 'Datacenter/dc-a', 'Host/host-a', 'Release/1.33.0', 'SSHKey/p/key-a', 'Site/a'];
  const expectedB = ['Cluster/p/cl-b', 'Datacenter/dc-b', 'Host/host-b', 'Release/1.33.0', 'SSHKey/p/key-b', 'Site/b'];
  const expectedSeed = ['Cluster/p/hosted', 'Datacenter/dc-seed', 'Release/1.33.0', 'Seed/seed1'];

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(project('p'), release('1.33.0'), ...siteWorld('a'), ...siteWorld('b'), seed('seed1'), datacenter('dc-seed', { seed: 'seed1' }), cluster('hosted', 'p', 'dc-seed', { mode: 'hosted' }));
    [a, b, s] = await Promise.all([TestAgent.join(hub, { site: 'a' }, 'a'), TestAgent.join(hub, { site: 'b' }, 'b'), TestAgent.join(hub, { seed: 'seed1' }, 'seed')]);
    for (const x of [a, b]) x.start();
    // A seed's agent needs its seed's Kubernetes API; this test is about views, so none answers.
    s.start([], { kubeconfig: (await unreachableSeedKubeconfig(hub.dir)).path });
  });
  afterAll(async () => {
    await Promise.all([a, b, s].map((x) => x?.stop()));
    await hub?.stop();
  });

  it('gives each agent exactly its view, for every kind', async () => {
    await waitFor('agent a view', () => JSON.stringify(names(agentObjects(a.dataDir))) === JSON.stringify(expectedA));
    await waitFor('agent b view', () => JSON.stringify(names(agentObjects(b.dataDir))) === JSON.stringify(expectedB));
    await waitFor('seed view', () => JSON.stringify(names(agentObjects(s.dataDir))) === JSON.stringify(expectedSeed));
    // Projects, Agents and Tokens are in no agent's view.
    for (const x of [a, b, s]) expect(agentObjects(x.dataDir).filter((o) => ['Project', 'Agent', 'Token'].includes(o.kind))).toEqual([]);
  });

  it("refuses to move a cluster to another datacenter: a cluster's datacenter is immutable", async () => {
    const err = await hub.api().patch(K('clusters'), 'cl-a', { spec: { datacenter: 'dc-b' } }, 'p').then(() => undefined, (e: unknown) => e as ApiError);
    expect(err).toBeInstanceOf(ApiError);
    expect({ status: err?.status, reason: err?.reason, causes: err?.causes }).toEqual({ status: 422, reason: 'Invalid', causes: [{ field: 'spec.datacenter', message: 'is immutable (was "dc-a"); create a new Cluster to move it', reason: 'FieldValueInvalid' }] });
  });

  it('moves a datacenter with its cluster and SSH key from site a to site b, as a deletion at a', async () => {
    await hub.api().patch(K('datacenters'), 'dc-a', { spec: { site: 'b' } });
    const moved = ['Cluster/p/cl-a', 'Datacenter/dc-a', 'SSHKey/p/key-a'];
    await waitFor('datacenter, cluster and key left a', () => JSON.stringify(names(agentObjects(a.dataDir))) === JSON.stringify(['Host/host-a', 'Release/1.33.0', 'Site/a']));
    await waitFor('and reached b', () => JSON.stringify(names(agentObjects(b.dataDir))) === JSON.stringify([...moved, ...expectedB].sort()));
  });

  it('moves a host between sites, and never shows b a host of a', async () => {
    const api = hub.api();
    await api.patch(K('hosts'), 'host-a', { spec: { site: 'b' } });
    await waitFor('host moved', () => names(agentObjects(b.dataDir)).includes('Host/host-a') && !names(agentObjects(a.dataDir)).includes('Host/host-a'));
    expect(names(agentObjects(s.dataDir)).some((n) => n.startsWith('Host/'))).toBe(false);
  });
});
