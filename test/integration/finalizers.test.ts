// Deletion with real processes: a Cluster on a site carries its agent's finalizer from creation, and a
// deleted Cluster stays Terminating until that agent has run its finalize step and released it, however
// long the agent is away; `outpost delete --force` is the operator's way out.
import { request } from 'node:https';
import { join } from 'node:path';
import { findKind, type Agent, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentObjects, agentTombstones, names } from '../lib/agent-state.js';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;
const FINALIZER = 'agent.outpost.dev/site.store-0412';

interface WatchEvent {
  type: string;
  object: Cluster;
  /** When this test received it. */
  at: number;
}

/** Collects the hub's watch events for clusters in `ns` from `revision` on, until `stop`. */
function watchClusters(hub: TestHub, ns: string, revision: string): { events: WatchEvent[]; stop(): void } {
  const events: WatchEvent[] = [];
  let buffered = '';
  const req = request(`${hub.url}/apis/outpost.dev/v1alpha1/namespaces/${ns}/clusters?watch=true&resourceVersion=${revision}`, { ca: hub.caCertPem, headers: { authorization: `Bearer ${hub.adminToken}` } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        events.push({ ...(JSON.parse(buffered.slice(0, nl)) as Omit<WatchEvent, 'at'>), at: Date.now() });
        buffered = buffered.slice(nl + 1);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { events, stop: () => req.destroy() };
}

/** Whether Cluster demo/`name` is gone from the hub (404). */
async function gone(hub: TestHub, name: string): Promise<boolean> {
  try {
    await hub.api().get(K('clusters'), name, 'demo');
    return false;
  } catch (err) {
    return (err as { status?: number }).status === 404;
  }
}

/** The agent's "finalized" log lines (pino JSON on stderr) for cluster `name`: when each was written. */
function finalizedAt(agent: TestAgent, name: string): number[] {
  return (agent.proc?.stderr ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { time: number; msg: string; object?: { name?: string } })
    .filter((l) => l.msg.startsWith('finalized') && l.object?.name === name)
    .map((l) => l.time);
}

describe('finalizers: a deleted Cluster waits for its agent', () => {
  let hub: TestHub;
  let agent: TestAgent;
  let env: NodeJS.ProcessEnv;
  const outpost = (...args: string[]) => run(OUTPOST, args, { env });
  const outpostIn = (input: string, ...args: string[]) => run(OUTPOST, args, { env, input });
  const getCluster = (name: string) => hub.api().get<Cluster>(K('clusters'), name, 'demo');
  const connected = async (want: boolean) =>
    waitFor(`agent ${want ? 'connected' : 'disconnected'}`, async () => (await hub.api().get<Agent>(K('agents'), agent.agentId)).status?.connected === want);
  /** The agent has reported the Cluster's current generation. */
  const received = (name: string) =>
    waitFor(`agent to hold ${name}`, async () => {
      const c = await getCluster(name);
      return c.status?.observedGeneration === c.metadata.generation && c.status?.conditions?.some((x) => x.type === 'Received' && x.status === 'True');
    });
  const manifest = (name: string) => `apiVersion: outpost.dev/v1alpha1\nkind: Cluster\nmetadata: {name: ${name}, namespace: demo}\nspec: {version: 1.33.0, datacenter: hamburg-stores, controlPlane: {mode: kubeadm, replicas: 1}}\n`;

  beforeAll(async () => {
    hub = await TestHub.start({ heartbeatMs: 500 });
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'));
    expect(login.stderr).toBe('');
    await hub.apply(project('demo'), site('store-0412'), datacenter('hamburg-stores', { site: 'store-0412' }));
    agent = (await TestAgent.join(hub, { site: 'store-0412' }, 'a')).start();
    await connected(true);
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  it("gives a Cluster on a site its agent's finalizer at creation, which apply leaves alone", async () => {
    expect((await outpostIn(manifest('pos'), 'apply', '-f', '-')).stdout).toBe('cluster/pos created\n');
    expect((await getCluster('pos')).metadata.finalizers).toEqual([FINALIZER]);
    // The manifest does not name the finalizer: that is no change, and a change to the spec keeps it.
    expect((await outpostIn(manifest('pos'), 'apply', '-f', '-')).stdout).toBe('cluster/pos unchanged\n');
    expect((await outpostIn(manifest('pos').replace('1.33.0', '1.33.1'), 'apply', '-f', '-')).stdout).toBe('cluster/pos configured\n');
    const c = await getCluster('pos');
    expect([c.spec?.version, c.metadata.finalizers]).toEqual(['1.33.1', [FINALIZER]]);
    await hub.apply(cluster('till', 'demo', 'hamburg-stores'));
    expect((await getCluster('till')).metadata.finalizers).toEqual([FINALIZER]);
  });

  it('with the agent running: Terminating until the agent has finalized it, then gone', async () => {
    await received('pos');
    const watch = watchClusters(hub, 'demo', (await getCluster('pos')).metadata.resourceVersion ?? '0');
    try {
      const del = await outpost('delete', 'cluster', 'pos', '-n', 'demo');
      expect(del.stdout).toMatch(new RegExp(`^cluster/pos is Terminating, waiting for ${FINALIZER.replace(/\./g, '\\.')}: its agent tears down`));
      await waitFor('pos gone at the hub', () => gone(hub, 'pos'));
      const ofPos = await waitFor('the DELETED event', () => {
        const evs = watch.events.filter((e) => e.object.metadata.name === 'pos');
        return evs.some((e) => e.type === 'DELETED') && evs.filter((e) => e.type === 'DELETED' || e.object.metadata.deletionTimestamp);
      });
      // Marked first (deletionTimestamp, the agent's finalizer still on), deleted only after that.
      expect(watch.events.filter((e) => e.type === 'DELETED')).toHaveLength(1);
      expect(ofPos.map((e) => [e.type, !!e.object.metadata.deletionTimestamp, e.object.metadata.finalizers])).toEqual([
        ['MODIFIED', true, [FINALIZER]],
        ['DELETED', true, [FINALIZER]],
      ]);
      // The agent's finalize step ran, once, before the hub removed the object.
      const finalized = finalizedAt(agent, 'pos');
      expect(finalized).toHaveLength(1);
      expect(finalized[0]!).toBeLessThanOrEqual(ofPos[1]!.at);
      await waitFor('pos gone at the agent', () => !names(agentObjects(agent.dataDir)).includes('Cluster/demo/pos'));
      expect(agentTombstones(agent.dataDir)).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('with the agent stopped: stays Terminating, and goes once the agent is back and has finalized it', async () => {
    await received('till');
    await agent.stop();
    await connected(false);
    const del = await outpost('delete', 'cluster', 'till', '-n', 'demo');
    expect(del.stdout).toMatch(/^cluster\/till is Terminating, waiting for agent\.outpost\.dev\/site\.store-0412: .*if the agent is offline it waits for it/);
    // Six heartbeat intervals: nothing but the agent may release it.
    await new Promise((r) => setTimeout(r, 3000));
    const waiting = await getCluster('till');
    expect(waiting.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(waiting.metadata.finalizers).toEqual([FINALIZER]);
    const table = await outpost('get', 'clusters', '-n', 'demo');
    expect(table.stdout).toMatch(/\ntill\s+1\.33\.0\s+hamburg-stores\s+kubeadm\s+Terminating\s+/);

    agent.start();
    await waitFor('till gone at the hub', () => gone(hub, 'till'));
    expect(finalizedAt(agent, 'till')).toHaveLength(1);
    await waitFor('till gone at the agent', () => !names(agentObjects(agent.dataDir)).includes('Cluster/demo/till'));
  });

  it('deletes with --force while the agent is offline, warning that what it made stays', async () => {
    await hub.apply(cluster('kiosk', 'demo', 'hamburg-stores'));
    await received('kiosk');
    await agent.stop();
    await connected(false);
    const forced = await outpost('delete', 'cluster', 'kiosk', '-n', 'demo', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('cluster/kiosk deleted (forced)\n');
    expect(forced.stderr).toBe(`warning: cluster/kiosk deleted without waiting for ${FINALIZER}: whatever its agent made for it is left in place, until that agent next connects and tears it down (for good if it never does)\n`);
    expect(await gone(hub, 'kiosk')).toBe(true);

    // The agent, back, sees the deletion and tears down what it made after all; nothing is left waiting.
    agent.start();
    await waitFor('kiosk finalized at the agent', () => finalizedAt(agent, 'kiosk').length === 1);
    await waitFor('no tombstone left', () => agentTombstones(agent.dataDir).length === 0 && !names(agentObjects(agent.dataDir)).includes('Cluster/demo/kiosk'));
    expect(agent.proc?.stderr).not.toMatch(/hub reported an error/);
  });
});

describe('finalizers: the release through a gateway process', () => {
  let hub: TestHub;
  let agent: TestAgent;
  beforeAll(async () => {
    hub = await TestHub.start({ heartbeatMs: 500, gatewayProcesses: 1 });
    await hub.apply(project('demo'), site('store-0412'), datacenter('hamburg-stores', { site: 'store-0412' }), cluster('pos', 'demo', 'hamburg-stores'));
    agent = (await TestAgent.join(hub, { site: 'store-0412' }, 'g')).start();
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  it('reaches the primary, which alone writes, and the Cluster goes', async () => {
    const api = hub.api();
    await waitFor('pos at the agent', () => names(agentObjects(agent.dataDir)).includes('Cluster/demo/pos'));
    const marked = await api.delete<Cluster>(K('clusters'), 'pos', 'demo');
    expect(marked.metadata.finalizers).toEqual([FINALIZER]);
    await waitFor('pos gone at the hub', () => gone(hub, 'pos'));
    expect(finalizedAt(agent, 'pos')).toHaveLength(1);
  });
});
