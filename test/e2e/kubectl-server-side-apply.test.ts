// The test world's real kubectl against a real hub process over TLS: server-side apply (create,
// re-apply, a server dry run, a second manager's conflict, --force-conflicts), kubectl patch --type=json, and
// kubectl get in chunks (limit and continue) with set-based label selectors.
// With kubectl's default validation: the hub's /openapi/v3 declares fieldValidation, so kubectl sends
// fieldValidation=Strict and leaves validation to the hub.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { TestHub } from '../lib/processes.js';
import { binary } from '../world/binaries.js';

const exec = promisify(execFile);

interface Kubectl {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kubectl server-side apply against the hub', () => {
  let hub: TestHub;
  let kubeconfig: string;
  let manifest: string;

  /** kubectl with our kubeconfig; never throws, so a test reads the exit code and stderr. */
  async function kubectl(...args: string[]): Promise<Kubectl> {
    try {
      const { stdout, stderr } = await exec(binary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  }

  const writeManifest = (version: string, labels: Record<string, string>): void => {
    const c = cluster('pos', 'demo', 'dc-store', { version });
    writeFileSync(manifest, YAML.stringify({ ...c, metadata: { ...c.metadata, labels } }));
  };

  const get = async (): Promise<{ metadata: { labels?: Record<string, string>; managedFields?: { manager: string; operation: string }[] }; spec: { version: string; sshKeys?: string[] } }> => {
    const r = await kubectl('get', 'clusters.outpost.dev', 'pos', '-n', 'demo', '-o', 'json', '--show-managed-fields');
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(project('demo'), site('store'), datacenter('dc-store', { site: 'store' }));
    kubeconfig = join(hub.dir, 'kubeconfig');
    manifest = join(hub.dir, 'cluster.yaml');
    writeFileSync(
      kubeconfig,
      YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'hub', cluster: { server: hub.url, 'certificate-authority-data': Buffer.from(hub.caCertPem).toString('base64') } }],
        users: [{ name: 'admin', user: { token: hub.adminToken } }],
        contexts: [{ name: 'hub', context: { cluster: 'hub', user: 'admin' } }],
        'current-context': 'hub',
      }),
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('creates with apply --server-side, and a re-apply changes the object and drops what it no longer sends', async () => {
    writeManifest('1.33.0', { team: 'pos', tier: 'edge' });
    const created = await kubectl('apply', '--server-side', '-f', manifest);
    expect(created).toEqual({ code: 0, stdout: 'cluster.outpost.dev/pos serverside-applied\n', stderr: '' });
    let obj = await get();
    expect(obj.spec.version).toBe('1.33.0');
    expect(obj.metadata.managedFields?.map((m) => `${m.manager}/${m.operation}`)).toEqual(['kubectl/Apply']);

    writeManifest('1.33.1', { team: 'pos' });
    // A server dry run answers what the apply would do and writes nothing.
    const dry = await kubectl('apply', '--server-side', '--dry-run=server', '-f', manifest, '-o', 'json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).spec.version).toBe('1.33.1');
    expect((await get()).spec.version).toBe('1.33.0');
    const again = await kubectl('apply', '--server-side', '-f', manifest);
    expect(again.code).toBe(0);
    obj = await get();
    expect(obj.spec.version).toBe('1.33.1');
    expect(obj.metadata.labels).toEqual({ team: 'pos' });
  });

  it('gives a second manager the conflict, and --force-conflicts wins', async () => {
    writeManifest('1.34.0', { team: 'pos' });
    const conflict = await kubectl('apply', '--server-side', '--field-manager', 'upgrader', '-f', manifest);
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.version');
    // kubectl knows it for an apply conflict and adds its own advice.
    expect(conflict.stderr).toContain('Please review the fields above--they currently have other managers.');
    expect((await get()).spec.version).toBe('1.33.1');

    const forced = await kubectl('apply', '--server-side', '--field-manager', 'upgrader', '--force-conflicts', '-f', manifest);
    expect(forced).toMatchObject({ code: 0, stdout: 'cluster.outpost.dev/pos serverside-applied\n' });
    const obj = await get();
    expect(obj.spec.version).toBe('1.34.0');
    expect(obj.metadata.managedFields?.map((m) => `${m.manager}/${m.operation}`)).toEqual(['kubectl/Apply', 'upgrader/Apply']);
    // kubectl's own manager lost spec.version, so its re-apply of 1.33.1 now conflicts with upgrader.
    writeManifest('1.33.1', { team: 'pos' });
    expect((await kubectl('apply', '--server-side', '-f', manifest)).stderr).toContain('conflict with "upgrader": .spec.version');
  });

  it('patches with kubectl patch --type=json, and a failed test op changes nothing', async () => {
    const patched = await kubectl('patch', 'clusters.outpost.dev', 'pos', '-n', 'demo', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/metadata/labels/env', value: 'prod' }, { op: 'add', path: '/spec/sshKeys', value: ['ops'] }]));
    expect(patched).toEqual({ code: 0, stdout: 'cluster.outpost.dev/pos patched\n', stderr: '' });
    let obj = await get();
    expect(obj.metadata.labels).toEqual({ team: 'pos', env: 'prod' });
    expect(obj.spec.sshKeys).toEqual(['ops']);
    expect(obj.metadata.managedFields?.map((m) => `${m.manager}/${m.operation}`)).toContain('kubectl-patch/Update');

    const failed = await kubectl('patch', 'clusters.outpost.dev', 'pos', '-n', 'demo', '--type=json', '-p', JSON.stringify([{ op: 'test', path: '/spec/version', value: '9.9.9' }, { op: 'remove', path: '/spec/sshKeys' }]));
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('operation 0 (test /spec/version) failed');
    obj = await get();
    expect(obj.spec.sshKeys).toEqual(['ops']);
  });

  // kubectl get sends limit (--chunk-size, 500 by default) and follows metadata.continue; -l goes to the hub as it is.
  it('lists in chunks with continue, and with set-based selectors', async () => {
    const labelled = (name: string, tier?: string) => ({ ...site(name), metadata: { name, ...(tier ? { labels: { tier } } : {}) } });
    await hub.apply(labelled('s1', 'gold'), labelled('s2', 'silver'), labelled('s3', 'gold'), labelled('s4'));
    const all = await kubectl('get', 'sites.outpost.dev', '--chunk-size=2', '-o', 'name', '-v=6');
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(['s1', 's2', 's3', 's4', 'store'].map((n) => `site.outpost.dev/${n}\n`).join(''));
    expect(all.stderr.match(/sites\?continue=/g)).toHaveLength(2);
    // The table kubectl prints by default is paged too: the hub's Table carries metadata.continue.
    const table = await kubectl('get', 'sites.outpost.dev', '--chunk-size=2', '--no-headers', '-v=6');
    expect(table.stdout.trimEnd().split('\n').map((row) => row.split(/\s+/)[0])).toEqual(['s1', 's2', 's3', 's4', 'store']);
    expect(table.stderr.match(/sites\?continue=/g)).toHaveLength(2);
    const gold = await kubectl('get', 'sites.outpost.dev', '--chunk-size=1', '-l', 'tier in (gold)', '-o', 'name');
    expect(gold).toEqual({ code: 0, stdout: 'site.outpost.dev/s1\nsite.outpost.dev/s3\n', stderr: '' });
    expect((await kubectl('get', 'sites.outpost.dev', '-l', 'tier!=gold,tier', '-o', 'name')).stdout).toBe('site.outpost.dev/s2\n');
    expect((await kubectl('get', 'sites.outpost.dev', '-l', '!tier', '-o', 'name')).stdout).toBe('site.outpost.dev/s4\nsite.outpost.dev/store\n');
  });
});
