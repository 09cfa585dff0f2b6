// An agent enrolled online tells the hub its encryption key in its Hello: real hub, real `outpost-agent run`,
// real `outpost bundle create` and `outpost-agent bundle import`. A Cluster made after the agent went away
// gets its CAs through the next bundle, sealed to that key, with no status bundle round trip first.
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, Cluster } from '@outpost/proto';
import { agentClusterKeys } from '../lib/agent-keys.js';
import { agentObjects, agentRevision } from '../lib/agent-state.js';
import { bundleProject, bundleSite, Clis, putBlobs, release } from '../lib/bundles.js';
import { cluster } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';

describe('an online agent tells the hub its encryption key over the link', () => {
  let hub: TestHub;
  let clis: Clis;
  let agent: TestAgent;
  const site = 'reef';

  beforeAll(async () => {
    hub = await TestHub.start();
    clis = await Clis.login(hub);
    await hub.apply(bundleProject(), release('1.33.0', putBlobs(hub.dataDir, 1024)), ...bundleSite(site));
    agent = await TestAgent.join(hub, { site }, site);
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
  });

  const heldKey = (): { public_key: string; learned: string } | undefined => {
    const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      return db.prepare(`SELECT public_key, learned FROM agent_encryption_keys WHERE agent_id = ?`).get(agent.agentId) as never;
    } finally {
      db.close();
    }
  };

  it("a Cluster made while the agent is offline gets its CAs in the next bundle, and the import opens them", async () => {
    const api = hub.api();
    agent.start();
    const own = createPublicKey(createPrivateKey(readFileSync(join(agent.dataDir, 'encryption.key'), 'utf8'))).export({ type: 'spki', format: 'pem' }).toString();
    const held = await waitFor('the hub to hold the agent key', () => heldKey(), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; agent stderr: ${agent.proc?.stderr.slice(-2000)}`);
    });
    expect(held.public_key).toBe(own);
    const connected = async (): Promise<boolean> => (await api.get<Agent>(api.kind('Agent'), agent.agentId)).status?.connected === true;
    await waitFor('the agent to hold its Cluster', () => agentObjects(agent.dataDir).some((o) => o.kind === 'Cluster'), 60_000);
    // A reconnect with the same key writes nothing.
    await agent.stop();
    await waitFor('the agent to be seen gone', async () => !(await connected()), 60_000);
    agent.start();
    await waitFor('the agent to connect again', connected, 60_000);
    await agent.stop();
    expect(heldKey()).toEqual(held);

    // Offline from here: a new Cluster, and no status bundle ever exported.
    await hub.apply(cluster('c-new', 'p', `dc-${site}`));
    const uid = (await api.get<Cluster>(api.kind('Cluster'), 'c-new', 'p')).metadata.uid!;
    const file = join(hub.dir, 'after.tar');
    const made = await clis.outpost('bundle', 'create', '--site', site, '--since', String(agentRevision(agent.dataDir)), '-o', file);
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(new RegExp(`carries the CAs of 2 of the site's 2 clusters, sealed to agent ${agent.agentId}'s encryption key \\(sha256:[0-9a-f]{64}\\)`));
    expect(agentClusterKeys(agent.dataDir).has(uid)).toBe(false);

    const imported = await clis.agent('bundle', 'import', '--data', agent.dataDir, file);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/imported delta from revision \d+ for site reef: .* 2 clusters' CAs received/);
    expect(agentClusterKeys(agent.dataDir).get(uid)?.ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
  }, 180_000);
});

describe('through gateway processes', () => {
  it('the key a Hello tells reaches the primary, which records it', async () => {
    const hub = await TestHub.start({ gatewayProcesses: 1 });
    const agent = await (async () => {
      await hub.apply(bundleProject(), ...bundleSite('cove'));
      return TestAgent.join(hub, { site: 'cove' }, 'cove');
    })();
    try {
      agent.start();
      const own = createPublicKey(createPrivateKey(readFileSync(join(agent.dataDir, 'encryption.key'), 'utf8'))).export({ type: 'spki', format: 'pem' }).toString();
      const held = await waitFor('the primary to hold the agent key', () => {
        const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
        try {
          return db.prepare(`SELECT public_key FROM agent_encryption_keys WHERE agent_id = ?`).get(agent.agentId) as { public_key: string } | undefined;
        } finally {
          db.close();
        }
      }, 60_000);
      expect(held.public_key).toBe(own);
    } finally {
      await agent.stop();
      await hub.stop();
    }
  }, 120_000);
});
