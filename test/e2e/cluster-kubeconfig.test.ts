// The hub's cluster CAs against a real kube-apiserver (the test world's, built from source): one started
// with the Cluster's CA as its client CA and the Cluster's service-account key, as the serving agent will
// start it, takes the kubeconfig `outpost kubeconfig CLUSTER` prints as cluster-admin (system:masters),
// and signs service-account tokens the hub's public key checks.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeys, pkiRow } from '../lib/cluster-pki.js';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { freePorts } from '../lib/ports.js';
import { OUTPOST, run, TestHub, waitFor, type RunResult } from '../lib/processes.js';
import { binary } from '../world/binaries.js';
import { makeLeaf } from '../world/pki.js';

describe('a kube-apiserver on the hub-made cluster CA', () => {
  let hub: TestHub;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let kubeconfig: string;
  const daemons: ChildProcess[] = [];
  // kubectl is a binary, not a node script: execFile, not run().
  const kubectl = (...args: string[]): Promise<RunResult> =>
    new Promise((done) => {
      execFile(binary('kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }));
    });

  beforeAll(async () => {
    hub = await TestHub.start();
    dir = mkdtempSync(join(tmpdir(), 'outpost-cluster-ca-'));
    await hub.apply(project('p'), site('s1'), datacenter('dc1', { site: 's1' }), cluster('c1', 'p', 'dc1'));
    // What the serving agent will get: the Cluster's CA and service-account key, from the hub's store.
    const row = pkiRow(hub.dataDir, 'p', 'c1')!;
    const keys = openKeys(hub.dataDir, 'p', 'c1', row);
    const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
    writeFileSync(ca.cert, row.ca_cert);
    writeFileSync(ca.key, keys.ca, { mode: 0o600 });
    writeFileSync(join(dir, 'sa.pub'), row.service_account_public_key);
    writeFileSync(join(dir, 'sa.key'), keys.serviceAccount, { mode: 0o600 });
    const serving = makeLeaf(dir, ca, { name: 'apiserver', cn: 'kube-apiserver', sans: ['127.0.0.1'], usage: 'server' });
    const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
    const start = (name: string, cmd: string, args: string[]): void => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let tail = '';
      child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
      child.on('exit', (code) => code && process.stderr.write(`${name} exited ${code}:\n${tail}\n`));
      daemons.push(child);
    };
    start('etcd', binary('etcd'), [
      '--name', 'c1', '--data-dir', join(dir, 'etcd'), '--log-level', 'warn', '--unsafe-no-fsync',
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `c1=http://127.0.0.1:${etcdPeer}`,
    ]);
    start('kube-apiserver', binary('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`, '--bind-address=127.0.0.1', `--secure-port=${apiPort}`,
      '--service-cluster-ip-range=10.250.0.0/24', `--tls-cert-file=${serving.cert}`, `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${ca.cert}`, '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--authorization-mode=RBAC', '--profiling=false', '--v=0',
    ]);
    // The agent would report this once the control plane is up.
    await hub.api().call('PATCH', `/apis/outpost.dev/v1alpha1/namespaces/p/clusters/c1/status`, { status: { phase: 'Running', endpoint: `127.0.0.1:${apiPort}` } }, 'application/merge-patch+json');
    env = { OUTPOST_CONFIG: join(dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
    expect(login.code, login.stderr).toBe(0);
    kubeconfig = join(dir, 'c1.kubeconfig');
    const written = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p', '--expiration', '15m', '-o', kubeconfig], { env });
    expect(written.code, written.stderr).toBe(0);
    await waitFor('kube-apiserver /readyz through the hub-signed kubeconfig', async () => {
      const r = await kubectl('get', '--raw', '/readyz');
      if (r.stdout.trim() !== 'ok') throw new Error(r.stderr.trim() || r.stdout.trim());
      return true;
    }, 90_000, 500);
  }, 180_000);
  afterAll(async () => {
    for (const d of daemons.reverse()) {
      if (d.exitCode === null && d.signalCode === null) {
        d.kill('SIGTERM');
        await new Promise((r) => d.once('exit', r));
      }
    }
    await hub?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes the kubeconfig as outpost:TOKEN in system:masters, with cluster-admin', async () => {
    const who = await kubectl('auth', 'whoami', '-o', 'json');
    expect(who.code, who.stderr).toBe(0);
    const user = (JSON.parse(who.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    expect(user.username).toBe(`outpost:${hub.adminToken.split('.')[0]}`);
    expect(user.groups).toContain('system:masters');
    const can = await kubectl('auth', 'can-i', '*', '*', '--all-namespaces');
    expect(can.stdout.trim()).toBe('yes');
  });

  it("signs service-account tokens with the Cluster's key, which the hub's public key checks", async () => {
    expect((await kubectl('create', 'serviceaccount', 'probe', '-n', 'default')).code).toBe(0);
    const t = await kubectl('create', 'token', 'probe', '-n', 'default');
    expect(t.code, t.stderr).toBe(0);
    const [header, payload, signature] = t.stdout.trim().split('.') as [string, string, string];
    expect((JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg: string }).alg).toBe('ES256');
    const pub = createPublicKey(pkiRow(hub.dataDir, 'p', 'c1')!.service_account_public_key);
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))).toBe(true);
  });
});
