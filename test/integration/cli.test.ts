// The README's quickstart, command by command, through the real CLIs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findKind, type ResourceObject } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, OUTPOST_AGENT, Proc, run, TestHub, waitFor } from '../lib/processes.js';
import { spawn } from 'node:child_process';

const MANIFEST = resolve(fileURLToPath(new URL('../../deploy/examples/store-0412.yaml', import.meta.url)));

describe('outpost CLI quickstart', () => {
  let hub: TestHub;
  let agent: Proc | undefined;
  let env: NodeJS.ProcessEnv;
  const outpost = (...args: string[]) => run(OUTPOST, args, { env });
  const outpostIn = (input: string, ...args: string[]) => run(OUTPOST, args, { env, input });

  beforeAll(async () => {
    hub = await TestHub.start();
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
  });
  afterAll(async () => {
    await agent?.kill();
    await hub?.stop();
  });

  it('logs in, rehearses the manifest with --dry-run=server (nothing written), applies it, and is idempotent', async () => {
    const login = await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'));
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const revision = async () => ((await hub.api().call<{ revision: number }>('GET', '/version')).revision);
    const before = await revision();
    // The project does not exist yet, so the hub refuses the cluster even in a dry run, as it would for real.
    const dry = await outpost('apply', '-f', MANIFEST, '--dry-run=server');
    expect(dry.stdout).toBe('project/demo created (server dry run)\nsite/store-0412 created (server dry run)\n');
    expect(dry.stderr).toMatch(/^error: datacenter\/hamburg-stores: .*site "store-0412" does not exist/m);
    expect(dry.code).toBe(1);
    expect(await revision()).toBe(before);
    expect(JSON.parse((await outpost('get', 'projects', '-o', 'json')).stdout).items).toEqual([]);
    const badMode = await outpost('apply', '-f', MANIFEST, '--dry-run=client');
    expect([badMode.code, badMode.stderr]).toEqual([2, 'error: --dry-run=client is not supported: use --dry-run=server (the hub checks everything and writes nothing) or leave it out\n']);
    const first = await outpost('apply', '-f', MANIFEST);
    expect(first.stdout).toBe('project/demo created\nsite/store-0412 created\ndatacenter/hamburg-stores created\ncluster/pos created\n');
    // The CLI's writes are managed as "outpost" (its User-Agent), not under the token's name.
    const applied = await hub.api().get<ResourceObject>(findKind('clusters')!, 'pos', 'demo');
    expect(applied.metadata.managedFields?.map((m) => m.manager)).toEqual(['outpost']);
    const second = await outpostIn(readFileSync(MANIFEST, 'utf8'), 'apply', '-f', '-');
    expect(second.stdout).toBe('project/demo unchanged\nsite/store-0412 unchanged\ndatacenter/hamburg-stores unchanged\ncluster/pos unchanged\n');
  });

  it('creates a token whose printed join command works, and shows Received and connected', async () => {
    const token = await outpost('token', 'create', '--site', 'store-0412', '--ttl', '10m');
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const cmd = /outpost-agent join (.*)/.exec(token.stderr)?.[1];
    expect(cmd).toContain(`--ca-hash ${hub.caHash}`);
    const args = cmd!.split(' ').map((a) => (a === '/var/lib/outpost-agent' ? join(hub.dir, 'agent') : a));
    const joined = await run(OUTPOST_AGENT, ['join', ...args]);
    expect(joined.stderr).toBe('');
    agent = new Proc(spawn(process.execPath, [OUTPOST_AGENT, 'run', '--data', join(hub.dir, 'agent')], { stdio: ['ignore', 'pipe', 'pipe'] }));

    const cluster = await waitFor('Received in outpost get', async () => {
      const r = await outpost('get', 'cluster', 'pos', '-n', 'demo', '-o', 'json');
      const c = JSON.parse(r.stdout) as { status?: { conditions?: Array<{ type: string; status: string }> } };
      return c.status?.conditions?.some((x) => x.type === 'Received' && x.status === 'True') && c;
    });
    expect(cluster).toBeTruthy();
    const agents = JSON.parse((await outpost('get', 'agents', '-o', 'json')).stdout) as { items: Array<{ status: { connected: boolean } }> };
    await waitFor('connected in outpost get', async () => (JSON.parse((await outpost('get', 'agents', '-o', 'json')).stdout) as typeof agents).items[0]?.status.connected === true);
    // Presence comes from the presence table, merged on read: the table still shows it.
    const agentTable = await waitFor('connected, acked and seen in outpost get agents', async () => {
      const t = (await outpost('get', 'agents')).stdout;
      return /\strue\s+[1-9]\d*\s+\S+\s+\d+s\s+false\s/.test(t) && t;
    });
    expect(agentTable).toMatch(/^NAME\s+ROLE\s+SERVES\s+CONNECTED\s+ACKED\s+VERSION\s+LAST-SEEN\s+REVOKED\s+AGE\n/);
    // -o wide adds where it connects from and since when; describe shows the presence in its own section.
    expect((await outpost('get', 'agents', '-o', 'wide')).stdout).toMatch(/^NAME\s+ROLE\s+SERVES\s+CONNECTED\s+ACKED\s+VERSION\s+LAST-SEEN\s+REVOKED\s+ADDRESS\s+CONNECTED-SINCE\s+AGE\n\S+\s+site\s+store-0412\s+true\s+\d+\s+\S+\s+\d+s\s+false\s+\S*127\.0\.0\.1\S*\s+\S+Z\s+\d+s\n$/);
    const agentName = (await outpost('get', 'agents', '-o', 'jsonpath={.items[0].metadata.name}')).stdout;
    expect((await outpost('describe', 'agent', agentName)).stdout).toMatch(/\nPresence:\n  Connected:\s+true\n  Connected Since:\s+\S+Z \(\d+s ago\)\n  Last Seen:\s+\S+Z \(\d+s ago\)\n  Address:\s+\S*127\.0\.0\.1\S*\n  Acked Revision:\s+[1-9]\d*\n  Version:\s+\S+\n/);
    const table = await outpost('get', 'clusters');
    expect(table.stdout).toMatch(/^PROJECT\s+NAME\s+VERSION\s+DATACENTER\s+MODE\s+PHASE\s+CONDITIONS\s+AGE\n/);
    expect(table.stdout).toMatch(/Received=True/);
    const yaml = await outpost('get', 'cl', 'pos', '-n', 'demo', '-o', 'yaml');
    expect(yaml.stdout).toMatch(/^apiVersion: outpost.dev\/v1alpha1\nkind: Cluster\n/);
  });

  it('refuses an audit retention it cannot use, naming the flag', async () => {
    const age = await run(OUTPOST, ['hub', 'serve', '--data', hub.dataDir, '--listen', '127.0.0.1:0', '--audit-max-age', '30 days']);
    expect({ code: age.code, stderr: age.stderr }).toEqual({ code: 1, stderr: 'error: audit max age "30 days" is not a duration: write a whole number and s, m, h or d, such as --audit-max-age 30d\n' });
    const rows = await run(OUTPOST, ['hub', 'serve', '--data', hub.dataDir, '--listen', '127.0.0.1:0', '--audit-max-rows', 'many']);
    expect(rows.code).toBe(2);
    expect(rows.stderr).toMatch(/^error: option '--audit-max-rows <n>' argument 'many' is invalid\. write a whole number, such as 1000000\.\n/);
    const none = await run(OUTPOST, ['hub', 'serve', '--data', hub.dataDir, '--listen', '127.0.0.1:0', '--audit-max-rows', '0']);
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 1, stderr: 'error: audit max rows 0 is not a whole number of at least 1 (--audit-max-rows N)\n' });
  });

  it('says clearly what is wrong with bad input, and writes nothing', async () => {
    const before = JSON.parse((await outpost('get', 'clusters', '-o', 'json')).stdout) as { items: unknown[] };
    const badYaml = await outpostIn('kind: Cluster\nmetadata: {name: x\n', 'apply', '-f', '-');
    expect(badYaml.code).toBe(1);
    expect(badYaml.stderr).toMatch(/stdin, document 1: invalid YAML/);
    const badSpec = await outpostIn(
      'apiVersion: outpost.dev/v1alpha1\nkind: Cluster\nmetadata: {name: bad, namespace: demo}\nspec: {version: not-a-version, datacenter: hamburg-stores, controlPlane: {mode: kubeadm}}\n',
      'apply', '-f', '-',
    );
    expect(badSpec.code).toBe(1);
    expect(badSpec.stderr).toMatch(/spec\.version: "not-a-version" is not a Kubernetes version/);
    const unknownField = await outpostIn('apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: s9}\nspec: {locaton: x}\n', 'apply', '-f', '-');
    expect(unknownField.stderr).toMatch(/spec\.locaton: unknown field/);
    const flag = await outpost('get', 'clusters', '--bogus');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--bogus'/);
    const kind = await outpost('get', 'pods');
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/unknown kind "pods"/);
    const missing = await outpost('get', 'cluster', 'nope', '-n', 'demo');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cluster "nope" in project "demo" not found/);
    const after = JSON.parse((await outpost('get', 'clusters', '-o', 'json')).stdout) as { items: unknown[] };
    expect(after.items.length).toBe(before.items.length);
  });

  it('deletes, with kinds by any name', async () => {
    // A rehearsal first: the hub says what it would do, and everything stays.
    expect((await outpost('delete', 'clusters', 'pos', '-n', 'demo', '--dry-run=server')).stdout).toBe('cluster/pos would be Terminating, waiting for agent.outpost.dev/site.store-0412 (server dry run)\n');
    expect((await outpost('delete', 'dc', 'hamburg-stores', '--dry-run=server')).stdout).toBe('datacenter/hamburg-stores deleted (server dry run)\n');
    const both = await outpost('delete', 'dc', 'hamburg-stores', '--dry-run=server', '--force');
    expect([both.code, both.stderr]).toEqual([2, 'error: --force and --dry-run=server do not go together: a forced delete cannot be rehearsed by the hub\n']);
    const still = JSON.parse((await outpost('get', 'cluster', 'pos', '-n', 'demo', '-o', 'json')).stdout) as { metadata: { deletionTimestamp?: string } };
    expect(still.metadata.deletionTimestamp).toBeUndefined();
    expect((await outpost('get', 'dc', 'hamburg-stores')).code).toBe(0);
    // Its site's agent holds it until it has torn down what it made; the agent is running, so not for long.
    expect((await outpost('delete', 'clusters', 'pos', '-n', 'demo')).stdout).toMatch(/^cluster\/pos is Terminating, waiting for agent\.outpost\.dev\/site\.store-0412: /);
    await waitFor('the agent to release pos', async () => (await outpost('get', 'cl', '-n', 'demo')).stdout === 'No resources found.\n');
    expect((await outpost('delete', 'datacenters', 'hamburg-stores')).stdout).toBe('datacenter/hamburg-stores deleted\n');
    expect((await outpost('delete', 'cluster', 'pos')).stderr).toMatch(/add -n PROJECT/);
  });
});
