// kill -9, both ends: no acknowledged write is lost, agents come back and converge, and a restarted
// agent resumes from the revision it acked without redoing what it had.
import { join } from 'node:path';
import { findKind, type Agent, type Cluster } from '@outpost/proto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentObjects, agentRevision, names } from '../lib/agent-state.js';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;
const SITES = ['a', 'b', 'c'];

describe('crashes', () => {
  let hub: TestHub;
  const agents = new Map<string, TestAgent>();

  beforeAll(async () => {
    hub = await TestHub.start({ heartbeatMs: 500 });
    await hub.apply(project('p'), ...SITES.flatMap((s) => [site(s), datacenter(`dc-${s}`, { site: s })]));
    for (const s of SITES) agents.set(s, (await TestAgent.join(hub, { site: s }, s)).start());
  });
  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop('SIGKILL')));
    await hub?.stop();
  });

  async function converged(): Promise<void> {
    const clusters = (await hub.api().list<Cluster>(K('clusters'))).items;
    for (const s of SITES) {
      const want = clusters.filter((c) => c.spec?.datacenter === `dc-${s}`).map((c) => `Cluster/p/${c.metadata.name}`).sort();
      await waitFor(`agent ${s} to converge on ${want.length} clusters`, () => {
        const got = names(agentObjects(agents.get(s)!.dataDir)).filter((n) => n.startsWith('Cluster/'));
        return JSON.stringify(got) === JSON.stringify(want);
      }, 30_000);
    }
  }

  it('keeps every acknowledged write through a hub kill -9, and every agent reconnects and converges', async () => {
    const api = hub.api();
    for (const a of agents.values()) {
      await waitFor(`agent ${a.agentId} connected`, async () => (await api.get<Agent>(K('agents'), a.agentId)).status?.connected, 30_000);
    }
    const acknowledged: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const name = `c-${i}`;
        try {
          await api.create(cluster(name, 'p', `dc-${SITES[i % SITES.length]}`) as never);
          acknowledged.push(name);
        } catch {
          // the hub is down: this write was not acknowledged, so nothing is promised about it
        }
      }
    })();
    await waitFor('some writes', () => acknowledged.length >= 30);
    await hub.proc!.kill('SIGKILL');
    stop = true;
    await writer;
    const before = acknowledged.length;
    // Statically stable: with the hub gone, every agent keeps running what it last received.
    for (const [s, a] of agents) {
      expect(a.proc?.alive).toBe(true);
      // Its Site and Datacenter, and only clusters of its own datacenter that the writer sent.
      const held = names(agentObjects(a.dataDir));
      expect(held.filter((n) => !n.startsWith('Cluster/'))).toEqual([`Datacenter/dc-${s}`, `Site/${s}`]);
      const mine = new Set(Array.from({ length: before + 1 }, (_, i) => i).filter((i) => SITES[i % SITES.length] === s).map((i) => `Cluster/p/c-${i}`));
      expect(held.filter((n) => n.startsWith('Cluster/') && !mine.has(n))).toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const a of agents.values()) expect(a.proc?.alive).toBe(true);
    await hub.serve();

    const names_ = new Set((await api.list<Cluster>(K('clusters'))).items.map((c) => c.metadata.name));
    const lost = acknowledged.filter((n) => !names_.has(n));
    expect(lost).toEqual([]);
    expect(before).toBeGreaterThanOrEqual(30);

    for (const a of agents.values()) {
      await waitFor(`agent ${a.agentId} reconnected`, async () => (await api.get<Agent>(K('agents'), a.agentId)).status?.connected, 30_000);
    }
    await converged();
  });

  it('resumes a killed agent from its acked revision without re-reporting what it had', async () => {
    const a = agents.get('a')!;
    const api = hub.api();
    await converged();
    const statusWrites = (): number => {
      const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM audit WHERE actor = ? AND verb = 'update-status' AND kind = 'Cluster'`).get(`agent:${a.agentId}`) as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await waitFor('status writes settle', async () => {
      const clusters = (await api.list<Cluster>(K('clusters'))).items.filter((c) => c.spec?.datacenter === 'dc-a');
      return clusters.every((c) => c.status?.conditions?.some((x) => x.type === 'Received'));
    });
    const writesBefore = statusWrites();
    await a.stop('SIGKILL');
    const acked = agentRevision(a.dataDir);
    await api.create(cluster('after-kill', 'p', 'dc-a') as never);
    a.start();
    await waitFor('new cluster at the restarted agent', () => names(agentObjects(a.dataDir)).includes('Cluster/p/after-kill'));
    await waitFor('its status', async () => (await api.get<Cluster>(K('clusters'), 'after-kill', 'p')).status?.conditions?.some((x) => x.type === 'Received'));
    const hello = a.proc!.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; localRevision?: number }).find((l) => l.msg === 'connected to hub');
    expect(hello?.localRevision).toBe(acked);
    // only the new cluster was reported: the agent did not redo the ones it had
    expect(statusWrites()).toBe(writesBefore + 1);
  });

  it('shuts the hub down cleanly on SIGTERM, recording agents as disconnected', async () => {
    const code = await hub.proc!.kill('SIGTERM');
    expect(code).toBe(0);
    expect(hub.proc!.stdout).toMatch(/shutting down/);
    const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      // Presence lives in its own table; the Agent objects carry none of it.
      const rows = db.prepare(`SELECT p.connected, json_extract(o.body, '$.status.connected') AS inObject FROM objects o LEFT JOIN presence p ON p.agent = o.name WHERE o.kind = 'Agent'`).all() as Array<{ connected: number | null; inObject: unknown }>;
      expect(rows).toEqual(SITES.map(() => ({ connected: 0, inObject: null })));
    } finally {
      db.close();
    }
    await hub.serve();
    for (const a of agents.values()) {
      await waitFor(`agent ${a.agentId} back`, async () => (await hub.api().get<Agent>(K('agents'), a.agentId)).status?.connected, 30_000);
    }
  });
});
