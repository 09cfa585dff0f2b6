// The whole loop with real processes: a hub, agents that join, pull, persist, ack and report.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, type Agent, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentObjects, agentRevision, names } from '../lib/agent-state.js';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;

describe('spine: join, pull, ack, status', () => {
  let hub: TestHub;
  let agent: TestAgent;

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(project('demo'), site('store-0412'), datacenter('hamburg-stores', { site: 'store-0412' }), cluster('pos', 'demo', 'hamburg-stores'));
    // At warn, the agent's info lines ('agent started', 'connected to hub') must not appear.
    agent = (await TestAgent.join(hub, { site: 'store-0412' }, 'a')).start(['--log-level', 'warn']);
  });
  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  it('reports Received for the cluster, and the agent as connected with its acked revision', async () => {
    const api = hub.api();
    const c = await waitFor('Received condition', async () => {
      const got = await api.get<Cluster>(K('clusters'), 'pos', 'demo');
      return got.status?.conditions?.some((x) => x.type === 'Received' && x.status === 'True') && got;
    });
    expect(c.status?.observedGeneration).toBe(1);
    expect(c.status?.conditions?.find((x) => x.type === 'ReleaseAvailable')?.status).toBe('False');
    const a = await waitFor('agent connected', async () => {
      const got = await api.get<Agent>(K('agents'), agent.agentId);
      return got.status?.connected && (got.status.ackedRevision ?? 0) > 0 && got;
    });
    expect(a?.status?.version).toBe('0.1.0');
    expect(a?.status?.lastSeen).toBeTruthy();
    // Its SSH key, made at join: the private half stays in DIR/ssh (0600), the public line is in status
    // and is what `outpost-agent ssh-key` prints.
    const printed = await run(OUTPOST_AGENT, ['ssh-key', '--data', agent.dataDir]);
    expect(printed.code).toBe(0);
    expect(printed.stdout.trim()).toMatch(new RegExp(`^ssh-ed25519 [A-Za-z0-9+/]+=* outpost-agent@${agent.agentId}$`));
    expect(a?.status?.sshPublicKey).toBe(printed.stdout.trim());
    expect(statSync(join(agent.dataDir, 'ssh', 'id_ed25519')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(agent.dataDir, 'ssh', 'id_ed25519'), 'utf8')).toContain('BEGIN OPENSSH PRIVATE KEY');
    // One pull so far, and the hub records the very revision the agent persisted.
    expect(a?.status?.ackedRevision).toBe(agentRevision(agent.dataDir));
    expect(names(agentObjects(agent.dataDir))).toEqual(['Cluster/demo/pos', 'Datacenter/hamburg-stores', 'Site/store-0412']);
    const levels = (agent.proc?.stderr ?? '').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { level: number }).level);
    expect(levels.filter((l) => l < 40)).toEqual([]);
  });

  it('follows a spec change: new generation pulled, observed and reported', async () => {
    const api = hub.api();
    const patched = await api.patch<Cluster>(K('clusters'), 'pos', { spec: { version: '1.33.1' } }, 'demo');
    const changeRevision = Number(patched.metadata.resourceVersion);
    const c = await waitFor('observedGeneration 2', async () => {
      const got = await api.get<Cluster>(K('clusters'), 'pos', 'demo');
      return got.status?.observedGeneration === 2 && got;
    });
    expect(c.metadata.generation).toBe(2);
    expect(c.status?.conditions?.find((x) => x.type === 'Received')?.observedGeneration).toBe(2);
    // The agent acks the hub's revision as of its Sync: the change's, or a later one when status writes
    // (the ReleaseAvailable controller's, presence's) came first; they take revisions but touch no view,
    // so they never poke the agent. The Cluster's own resourceVersion is that of the agent's Received
    // report, made after the pull and never sent back down: always above the ack, by how much depends on
    // which status writes raced it (hence the old `revision - 1`, which could wait for an ack that never
    // came). So: wait for an ack that covers the change, then check it exactly.
    const acked = await waitFor('ack of the change', async () => {
      const r = (await api.get<Agent>(K('agents'), agent.agentId)).status?.ackedRevision ?? 0;
      return r >= changeRevision && r;
    });
    expect(agentRevision(agent.dataDir)).toBe(acked);
    expect(acked).toBeLessThan(Number(c.metadata.resourceVersion));
    expect(agentObjects(agent.dataDir).find((o) => o.kind === 'Cluster')?.generation).toBe(2);
  });

  it('delivers a Release to every agent and flips ReleaseAvailable', async () => {
    const api = hub.api();
    await api.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: '1.33.1' }, spec: { version: '1.33.1' } });
    await waitFor('release at the agent', () => names(agentObjects(agent.dataDir)).includes('Release/1.33.1'));
    const c = await api.get<Cluster>(K('clusters'), 'pos', 'demo');
    expect(c.status?.conditions?.find((x) => x.type === 'ReleaseAvailable')?.status).toBe('True');
  });

  it('removes a deleted cluster from the agent', async () => {
    await hub.api().delete(K('clusters'), 'pos', 'demo');
    await waitFor('cluster gone at the agent', () => !names(agentObjects(agent.dataDir)).includes('Cluster/demo/pos'));
  });
});

describe('joining: bad tokens and a wrong CA hash', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(site('s1'));
  });
  afterAll(async () => hub?.stop());

  const join = (token: string, caHash: string, dir: string) => run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', token, '--ca-hash', caHash, '--data', `${hub.dir}/${dir}`]);

  it('refuses a wrong CA hash before sending the token', async () => {
    const token = await hub.bootstrapToken({ site: 's1' });
    const r = await join(token, `sha256:${'0'.repeat(64)}`, 'wrong-hash');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CA_MISMATCH.*nothing was sent/);
    // the token was not spent
    expect((await join(token, hub.caHash, 'right-hash')).code).toBe(0);
  });

  it('refuses a used token, saying it was used', async () => {
    const token = await hub.bootstrapToken({ site: 's1' });
    expect((await join(token, hub.caHash, 'first')).code).toBe(0);
    const r = await join(token, hub.caHash, 'second');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TOKEN_USED.*already used/);
  });

  it('refuses an expired token, saying it expired', async () => {
    const token = await hub.bootstrapToken({ site: 's1' }, '1s');
    await new Promise((r) => setTimeout(r, 1500));
    const r = await join(token, hub.caHash, 'late');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TOKEN_EXPIRED.*expired at/);
  });

  it('refuses an unknown or malformed token, and bad flags', async () => {
    expect((await join('abcdef.0123456789abcdef', hub.caHash, 'unknown')).stderr).toMatch(/TOKEN_UNKNOWN/);
    expect((await join('nonsense', hub.caHash, 'malformed')).stderr).toMatch(/TOKEN_MALFORMED/);
    expect((await join('abcdef.0123456789abcdef', 'md5:xyz', 'badhash')).stderr).toMatch(/BAD_HASH/);
    const r = await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', 'x', '--ca-hash', hub.caHash, '--data', `${hub.dir}/flags`, '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
  });
});
