// The CAs of each Cluster go from the hub (their CA of record) to the agent that serves it and nowhere
// else, against real hub and agent processes, with the gateway in the hub and in two gateway processes:
// a seed agent ends up with exactly its hosted Cluster's keys and a site agent with exactly its kubeadm
// Cluster's, each equal to what the hub sealed (opened here with secrets.key, not with the hub's code);
// each delivery is audited once; the state file is the agent user's alone; no key reaches an agent's log;
// a Cluster's keys go when it is deleted; and a hand-made SecretsRequest for a Cluster outside the asking
// agent's view, or for one in it under a wrong uid, gets no keys.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, MAX_SECRETS_PER_REQUEST, SecretsMissing, type ClusterSecret, type ObjectRef } from '@outpost/proto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClusterKeys } from '../lib/agent-keys.js';
import { openKeys, pkiRow } from '../lib/cluster-pki.js';
import { cluster, datacenter, project, seed, site } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { joinRaw, RawAgent } from '../lib/raw-agent.js';
import { unreachableSeedKubeconfig } from '../lib/seed-kubeconfig.js';

const CLUSTER = findKind('Cluster')!;

describe.each([0, 2])('cluster CAs delivered to their agent only (gateway processes: %i)', (gatewayProcesses) => {
  let hub: TestHub;
  let seedAgent: TestAgent;
  let siteAgent: TestAgent;
  const uid: Record<string, string> = {};

  const audits = (): Array<{ actor: string; name: string }> => {
    const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      return db.prepare(`SELECT actor, name FROM audit WHERE verb = 'deliver-cluster-keys' ORDER BY id`).all() as Array<{ actor: string; name: string }>;
    } finally {
      db.close();
    }
  };
  const ref = (name: string, u = uid[name]!): ObjectRef => ({ kind: 'Cluster', namespace: 'p', name, uid: u });

  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses });
    await hub.apply(
      project('p'), seed('se1'), datacenter('dc-seed', { seed: 'se1' }), site('si1'), datacenter('dc-site', { site: 'si1' }), site('si2'), datacenter('dc-other', { site: 'si2' }),
      cluster('hosted1', 'p', 'dc-seed', { mode: 'hosted' }), cluster('kubeadm1', 'p', 'dc-site'), cluster('other1', 'p', 'dc-other'),
    );
    for (const name of ['hosted1', 'kubeadm1', 'other1']) uid[name] = (await hub.api().get<{ metadata: { uid: string } }>(CLUSTER, name, 'p')).metadata.uid;
    const kubeconfig = await unreachableSeedKubeconfig(hub.dir);
    seedAgent = (await TestAgent.join(hub, { seed: 'se1' }, 'seed')).start([], { kubeconfig: kubeconfig.path });
    siteAgent = (await TestAgent.join(hub, { site: 'si1' }, 'site')).start();
  }, 60_000);
  afterAll(async () => {
    await seedAgent?.stop();
    await siteAgent?.stop();
    await hub?.stop();
  });

  it("gives each agent exactly its own cluster's keys, as the hub sealed them, audited once", async () => {
    for (const [agent, name] of [[seedAgent, 'hosted1'], [siteAgent, 'kubeadm1']] as const) {
      const keys = await waitFor(`${name}'s CAs at its agent`, () => agentClusterKeys(agent.dataDir).get(uid[name]!));
      const row = pkiRow(hub.dataDir, 'p', name)!;
      const sealed = openKeys(hub.dataDir, 'p', name, row);
      expect(keys).toEqual({
        ca: { certPem: row.ca_cert, keyPem: sealed.ca },
        frontProxyCa: { certPem: row.front_proxy_ca_cert, keyPem: sealed.frontProxyCa },
        etcdCa: { certPem: row.etcd_ca_cert, keyPem: sealed.etcdCa },
        serviceAccount: { publicKeyPem: row.service_account_public_key, privateKeyPem: sealed.serviceAccount },
      });
      expect([...agentClusterKeys(agent.dataDir).keys()]).toEqual([uid[name]]);
      // Logged by name only: no line of any private key is in the agent's log.
      const keyLine = sealed.ca.split('\n')[1]!;
      await waitFor("the delivery in the agent's log", () => agent.proc!.stderr.includes("received the cluster's CAs"));
      expect(agent.proc!.stderr).not.toContain(keyLine);
    }
    expect(audits().sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { actor: `agent:${seedAgent.agentId}`, name: 'hosted1' },
      { actor: `agent:${siteAgent.agentId}`, name: 'kubeadm1' },
    ]);
  });

  it("keeps them in a state file and data directory that are the agent user's alone", () => {
    const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);
    for (const agent of [seedAgent, siteAgent]) {
      const file = join(agent.dataDir, 'state.db');
      expect([file, `${file}-wal`, `${file}-shm`].map(mode)).toEqual(['600', '600', '600']);
      expect(mode(agent.dataDir)).toBe('700');
    }
  });

  it('answers a hand-made SecretsRequest with no keys for what is outside the view, or under a wrong uid', async () => {
    const id = await joinRaw(hub, { site: 'si2' }, `raw-${gatewayProcesses}`);
    const raw = await RawAgent.connect(hub, id);
    try {
      await waitFor('Welcome', () => raw.frames.some((f) => f.welcome));
      const asked = [ref('hosted1'), ref('kubeadm1'), ref('other1', 'not-its-uid'), { ...ref('other1'), kind: 'Host' }, ...Array.from({ length: MAX_SECRETS_PER_REQUEST }, () => ref('other1'))];
      raw.send({ secretsRequest: { clusters: asked } });
      const answers = await waitFor('the Secrets answer', () => {
        const got: ClusterSecret[] = raw.frames.flatMap((f) => f.secrets?.clusters ?? []);
        return got.length >= asked.length && got;
      });
      expect(answers).toHaveLength(asked.length);
      expect(answers.slice(0, 4).map((a) => [a.ref?.name, a.missing?.reason, a.keys ?? null])).toEqual([
        ['hosted1', SecretsMissing.notInView, null],
        ['kubeadm1', SecretsMissing.notInView, null],
        ['other1', SecretsMissing.notInView, null],
        ['other1', SecretsMissing.notInView, null],
      ]);
      // Its own Cluster, asked for many times in one frame: keys within the bound, TOO_MANY past it.
      expect(answers.slice(4, -4).every((a) => a.keys?.ca?.keyPem === openKeys(hub.dataDir, 'p', 'other1', pkiRow(hub.dataDir, 'p', 'other1')!).ca)).toBe(true);
      expect(answers.slice(-4).map((a) => a.missing?.reason)).toEqual(Array(4).fill(SecretsMissing.tooMany));
      expect(raw.closed).toBeUndefined();
      expect(audits().filter((a) => a.name !== 'other1')).toHaveLength(2);
    } finally {
      raw.close();
    }
  });

  it('asks for nothing again once it holds the keys: over a hub restart each delivery stays one', async () => {
    const before = audits();
    const connects = (a: TestAgent): number => a.proc!.stderr.split('connected to hub').length - 1;
    const [seedConnects, siteConnects] = [connects(seedAgent), connects(siteAgent)];
    await hub.proc!.kill('SIGTERM');
    await hub.serve();
    await waitFor('both agents back', () => connects(seedAgent) > seedConnects && connects(siteAgent) > siteConnects, 30_000);
    // A request would be answered within a tick of the Welcome; give it time to show.
    await new Promise((r) => setTimeout(r, 1000));
    expect(audits()).toEqual(before);
  });

  it("forgets a Cluster's keys once it is deleted and finalized", async () => {
    await hub.api().delete(CLUSTER, 'kubeadm1', 'p');
    await waitFor('kubeadm1 gone from the hub', async () => !(await hub.api().list(CLUSTER, 'p')).items.some((c) => (c as { metadata: { name: string } }).metadata.name === 'kubeadm1'));
    await waitFor("kubeadm1's CAs forgotten by its agent", () => agentClusterKeys(siteAgent.dataDir).size === 0);
    expect([...agentClusterKeys(seedAgent.dataDir).keys()]).toEqual([uid.hosted1]);
  });
});
