// The hub with its agent gateway spread over processes (`--gateway-processes 2`): joins and the admin
// API pass through a gateway to the primary; pulls, acks, statuses, pokes, revocation and kill -9 work
// as they do in one process.
import { findKind, type Agent, type Cluster } from '@outpost/proto';
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentObjects, names } from '../lib/agent-state.js';
import { cluster, datacenter, project, release, site } from '../lib/fixtures.js';
import { OUTPOST, processTree, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;
const SITES = ['g1', 'g2', 'g3', 'g4'];

describe('hub with two gateway processes', () => {
  let hub: TestHub;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses: 2 });
    await hub.apply(project('demo'), ...SITES.flatMap((s) => [site(s), datacenter(`dc-${s}`, { site: s }), cluster(`c-${s}`, 'demo', `dc-${s}`)]));
    for (const s of SITES) agents.push((await TestAgent.join(hub, { site: s }, s)).start());
  }, 60_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await hub?.stop();
  });

  const received = (name: string, generation: number) =>
    waitFor(`${name} Received at generation ${generation}`, async () => {
      const c = await hub.api().get<Cluster>(K('clusters'), name, 'demo');
      return c.status?.conditions?.some((x) => x.type === 'Received' && x.status === 'True' && x.observedGeneration === generation) && c;
    });

  it('runs the gateway in two child processes', () => {
    expect(processTree(hub.proc!.child.pid!)).toHaveLength(3);
  });

  it('has every agent connected, synced and reporting status through the primary', async () => {
    for (const s of SITES) await received(`c-${s}`, 1);
    await waitFor('every agent connected and acked', async () => {
      const list = await hub.api().list<Agent>(K('agents'));
      return list.items.filter((a) => a.status?.connected && (a.status.ackedRevision ?? 0) > 0).length === SITES.length;
    });
  });

  it('pokes the agent whose view changed, and every agent for a Release', async () => {
    await hub.api().patch(K('clusters'), 'c-g2', { spec: { version: '1.33.1' } }, 'demo');
    await received('c-g2', 2);
    await hub.api().create(release('1.33.1') as never);
    for (const a of agents) await waitFor('release at the agent', () => names(agentObjects(a.dataDir)).includes('Release/1.33.1'));
  });

  it('streams presence to a watch of agents, from events the gateway processes report, without a revision', async () => {
    const agent = agents[1]!;
    const before = (await hub.api().call<{ revision: number }>('GET', '/version')).revision;
    // Through a gateway process's proxy to the primary, which writes presence and serves the watch.
    const events: Array<{ type: string; object: Agent }> = [];
    const req = request(new URL(`/apis/outpost.dev/v1alpha1/agents?watch=true&resourceVersion=${before}`, hub.url), { ca: hub.caCertPem, headers: { authorization: `Bearer ${hub.adminToken}` } }, (res) => {
      let buffered = '';
      res.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          events.push(JSON.parse(buffered.slice(0, nl)) as { type: string; object: Agent });
          buffered = buffered.slice(nl + 1);
        }
      });
    });
    req.end();
    try {
      const rv = (await hub.api().get<Agent>(K('agents'), agent.agentId)).metadata.resourceVersion;
      const of = (connected: boolean) => events.find((e) => e.object.metadata.name === agent.agentId && e.object.status?.connected === connected);
      await new Promise((r) => setTimeout(r, 300)); // the watch is in place before the agent goes
      await agent.stop();
      const gone = await waitFor('a MODIFIED event: disconnected', () => of(false));
      agent.start();
      const back = await waitFor('a MODIFIED event: connected again', () => of(true));
      for (const e of [gone, back]) expect({ type: e.type, rv: e.object.metadata.resourceVersion }).toEqual({ type: 'MODIFIED', rv });
      expect(events.every((e) => e.type === 'MODIFIED' && e.object.kind === 'Agent')).toBe(true);
      expect((await hub.api().call<{ revision: number }>('GET', '/version')).revision).toBe(before);
    } finally {
      req.destroy();
    }
  });

  it('closes a revoked agent in whichever process holds it', async () => {
    const old = agents[0]!;
    const replacement = (await TestAgent.join(hub, { site: 'g1' }, 'g1-new')).start();
    agents.push(replacement);
    await waitFor('old agent disconnected', async () => (await hub.api().get<Agent>(K('agents'), old.agentId)).status?.connected === false);
    await waitFor('new agent connected', async () => (await hub.api().get<Agent>(K('agents'), replacement.agentId)).status?.connected === true);
  });

  it('brings every agent back after the whole hub is killed -9', async () => {
    for (const pid of processTree(hub.proc!.child.pid!).slice(1)) process.kill(pid, 'SIGKILL');
    await hub.proc!.kill('SIGKILL');
    await hub.serve();
    await hub.api().patch(K('clusters'), 'c-g3', { spec: { version: '1.33.2' } }, 'demo');
    await received('c-g3', 2);
    await waitFor('agents connected again', async () => {
      const list = await hub.api().list<Agent>(K('agents'));
      return list.items.filter((a) => a.status?.connected).length === SITES.length;
    }, 30_000);
  }, 40_000);

  it('stops its gateway processes with the primary on SIGTERM', async () => {
    const tree = processTree(hub.proc!.child.pid!);
    expect(tree).toHaveLength(3);
    await hub.proc!.kill('SIGTERM');
    for (const pid of tree) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('gateway processes at their connection limit', () => {
  const LIMIT = 20;
  let hub: TestHub;
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses: 2, serveArgs: ['--connections-per-gateway-process', String(LIMIT)] });
  }, 30_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await hub?.stop();
  });

  const open = () =>
    new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: hub.port, ca: hub.caCertPem });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });

  it('fills one process after the other without refusing, then refuses only when all are full', async () => {
    // Whatever the kernel's spread, a full process leaves new connections to the one with room.
    for (let i = 0; i < 2 * LIMIT; i++) sockets.push(await open());
    await waitFor('both processes to report themselves full', () => (hub.proc!.stderr.match(/gateway process full/g)?.length ?? 0) === 2);
    await expect(open()).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
  });

  it('accepts again once connections close', async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await waitFor('a connection accepted again', () => open().then((s) => sockets.push(s), () => false));
    expect(hub.proc!.alive).toBe(true);
  });

  it('refuses a limit that would leave no room', async () => {
    const r = await run(OUTPOST, ['hub', 'serve', '--data', hub.dataDir, '--listen', '127.0.0.1:0', '--gateway-processes', '2', '--connections-per-gateway-process', '5']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/connections per gateway process 5 is not a whole number of at least 20/);
  });
});
