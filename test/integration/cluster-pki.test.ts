// The hub as every cluster's CA of record, against a real hub process: a Cluster's CAs and service-account
// key are made with it and sealed in hub.db (no private key, in any encoding, is in the file or its WAL);
// `outpost kubeconfig CLUSTER` prints an admin kubeconfig whose client certificate chains to the cluster
// CA and expires as asked, audited; a viewer is refused; the Cluster's final delete removes its PKI.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { findKind } from '@outpost/proto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { openKeys, pkiRow as readPkiRow } from '../lib/cluster-pki.js';
import { cluster, datacenter, project, site } from '../lib/fixtures.js';
import { OUTPOST, run, TestHub } from '../lib/processes.js';

const PREFIX = '/apis/outpost.dev/v1alpha1';
const CLUSTER = findKind('Cluster')!;

type Kubeconfig = {
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  'current-context': string;
};

describe('cluster PKI of record', () => {
  let hub: TestHub;
  let adminId: string;
  let viewerEnv: NodeJS.ProcessEnv;
  let editorToken: string;
  let viewerToken: string;
  let env: NodeJS.ProcessEnv;

  const db = <T>(fn: (d: Database.Database) => T): T => {
    const d = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      return fn(d);
    } finally {
      d.close();
    }
  };
  const pkiRow = (name: string) => readPkiRow(hub.dataDir, 'p', name);

  /** One admin API call with its HTTP status. */
  function http(method: string, path: string, token: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; body: { message?: string; kubeconfig?: string } }> {
    return new Promise((resolve, reject) => {
      const req = request(`${hub.url}${PREFIX}${path}`, { method, ca: hub.caCertPem, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as { message?: string } }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async function apiToken(role: string): Promise<string> {
    const t = await hub.api().create<{ status: { token: string } }>({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: {}, spec: { type: 'api', role, project: 'p' } } as never);
    return t.status.token;
  }

  async function login(name: string, token: string): Promise<NodeJS.ProcessEnv> {
    const tokenFile = join(hub.dir, `${name}.token`);
    writeFileSync(tokenFile, token);
    const e = { OUTPOST_CONFIG: join(hub.dir, `${name}-cli-config`) };
    const r = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', tokenFile, '--ca-file', join(hub.dataDir, 'ca.crt')], { env: e });
    expect(r.stderr).toBe('');
    return e;
  }

  beforeAll(async () => {
    hub = await TestHub.start();
    adminId = hub.adminToken.split('.')[0]!;
    await hub.apply(project('p'), site('s1'), datacenter('dc1', { site: 's1' }), cluster('c1', 'p', 'dc1'), cluster('c2', 'p', 'dc1'));
    env = await login('admin', hub.adminToken);
    editorToken = await apiToken('editor');
    viewerToken = await apiToken('viewer');
    viewerEnv = await login('viewer', viewerToken);
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('makes each Cluster three CAs and a service-account key, and keeps no private key readable in hub.db or its WAL', () => {
    const names = ['c1', 'c2'];
    const rows = names.map((n) => pkiRow(n)!);
    const uid = db((d) => (JSON.parse((d.prepare(`SELECT body FROM objects WHERE kind = 'Cluster' AND name = 'c1'`).get() as { body: string }).body) as { metadata: { uid: string } }).metadata.uid);
    expect(rows[0]!.uid).toBe(uid);
    expect(rows[0]!.ca_cert).not.toBe(rows[1]!.ca_cert);
    for (const r of rows) for (const pem of [r.ca_cert, r.front_proxy_ca_cert, r.etcd_ca_cert]) expect(new X509Certificate(pem).ca).toBe(true);

    const files = ['hub.db', 'hub.db-wal'].map((f) => join(hub.dataDir, f)).filter(existsSync);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    // The public certificates are there: the search reads the right bytes.
    expect(bytes.includes(Buffer.from(rows[0]!.ca_cert.split('\n')[1]!))).toBe(true);
    expect(bytes.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    // The sealed keys opened (test/lib/cluster-pki.ts), to know exactly which bytes must not be in the file.
    for (const [i, r] of rows.entries()) {
      const keys = openKeys(hub.dataDir, 'p', names[i]!, r);
      expect(Object.keys(keys).sort()).toEqual(['ca', 'etcdCa', 'frontProxyCa', 'serviceAccount']);
      for (const pem of Object.values(keys)) {
        const k = createPrivateKey(pem);
        const der = k.export({ format: 'der', type: 'pkcs8' });
        const scalar = Buffer.from(k.export({ format: 'jwk' }).d!, 'base64url');
        expect(scalar.length).toBe(32);
        for (const secret of [der, scalar, Buffer.from(der.toString('base64')), Buffer.from(scalar.toString('hex')), Buffer.from(scalar.toString('base64url'))]) {
          expect(bytes.includes(secret)).toBe(false);
        }
      }
    }
  });

  it('refuses a kubeconfig for a cluster that is not Running yet, saying so', async () => {
    const r = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not Running yet .*no status.endpoint/);
    expect(r.stdout).toBe('');
  });

  it('prints an admin kubeconfig that chains to the cluster CA and expires as asked, and audits it', async () => {
    const set = await http('PATCH', '/namespaces/p/clusters/c1/status', hub.adminToken, { status: { phase: 'Running', endpoint: '10.213.0.50:6443' } }, 'application/merge-patch+json');
    expect(set.code).toBe(200);
    const before = Date.now();
    const r = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p', '--expiration', '2h'], { env });
    expect(r.code, r.stderr).toBe(0);
    const k = YAML.parse(r.stdout) as Kubeconfig;
    const row = pkiRow('c1')!;
    expect(k.clusters[0]!.cluster.server).toBe('https://10.213.0.50:6443');
    expect(Buffer.from(k.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString()).toBe(row.ca_cert);
    const cert = new X509Certificate(Buffer.from(k.users[0]!.user['client-certificate-data'], 'base64'));
    expect(cert.verify(new X509Certificate(row.ca_cert).publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(row.front_proxy_ca_cert).publicKey)).toBe(false);
    expect(cert.subject.split('\n').sort()).toEqual([`CN=outpost:${adminId}`, 'O=system:masters']);
    const expires = new Date(cert.validTo).getTime();
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 2 * 3_600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
    // The key is the certificate's.
    const clientKey = createPrivateKey(Buffer.from(k.users[0]!.user['client-key-data'], 'base64'));
    expect(cert.checkPrivateKey(clientKey)).toBe(true);
    expect(r.stderr).toMatch(/expires at \d{4}-\d\d-\d\dT/);

    const audited = db((d) => d.prepare(`SELECT actor, verb, kind, namespace, name FROM audit WHERE verb = 'kubeconfig'`).all());
    expect(audited).toEqual([{ actor: adminId, verb: 'kubeconfig', kind: 'Cluster', namespace: 'p', name: 'c1' }]);
  });

  it('lets an editor of the project ask, defaulting to an hour; a viewer gets 403', async () => {
    const editor = await http('POST', '/namespaces/p/clusters/c1/kubeconfig', editorToken, {});
    expect(editor.code).toBe(201);
    const cert = new X509Certificate(Buffer.from((YAML.parse(editor.body.kubeconfig!) as Kubeconfig).users[0]!.user['client-certificate-data'], 'base64'));
    expect(Math.abs(new Date(cert.validTo).getTime() - Date.now() - 3_600_000)).toBeLessThan(10_000);

    const viewer = await http('POST', '/namespaces/p/clusters/c1/kubeconfig', viewerToken, {});
    expect(viewer.code).toBe(403);
    expect(viewer.body.message).toMatch(/viewer .*may not get an admin kubeconfig/);
    const cli = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p'], { env: viewerEnv });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/may not get an admin kubeconfig/);
    // Refused requests leave no kubeconfig row; the editor's is there.
    const actors = db((d) => d.prepare(`SELECT actor FROM audit WHERE verb = 'kubeconfig' ORDER BY id`).all() as Array<{ actor: string }>).map((a) => a.actor);
    expect(actors).toEqual([adminId, editorToken.split('.')[0]]);
  });

  it('refuses an expiration out of bounds and a form body, and keeps --hub working', async () => {
    const long = await run(OUTPOST, ['kubeconfig', 'c1', '-n', 'p', '--expiration', '48h'], { env });
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/expirationSeconds must be .* to 86400 \(24h\)/);
    const form = await http('POST', '/namespaces/p/clusters/c1/kubeconfig', hub.adminToken, {}, 'application/x-www-form-urlencoded');
    expect(form.code).toBe(415);
    const get = await http('GET', '/namespaces/p/clusters/c1/kubeconfig', hub.adminToken);
    expect(get.code).toBe(405);
    const noProject = await run(OUTPOST, ['kubeconfig', 'c1'], { env });
    expect(noProject.code).toBe(2);
    expect(noProject.stderr).toMatch(/-n PROJECT/);
    const h = await run(OUTPOST, ['kubeconfig', '--hub'], { env });
    expect(h.code, h.stderr).toBe(0);
    expect((YAML.parse(h.stdout) as { users: Array<{ user: { token: string } }> }).users[0]!.user.token).toBe(hub.adminToken);
  });

  it("removes a Cluster's PKI with its final delete, not while it is only marked", async () => {
    const api = hub.api();
    await api.delete(CLUSTER, 'c2', 'p');
    expect(pkiRow('c2')).toBeDefined(); // the site agent's finalizer holds it
    await api.patch(CLUSTER, 'c2', { metadata: { finalizers: null } }, 'p');
    expect(pkiRow('c2')).toBeUndefined();
    expect(pkiRow('c1')).toBeDefined();
    // A Cluster made again under the name gets new CAs.
    await hub.apply(cluster('c2', 'p', 'dc1'));
    expect(pkiRow('c2')!.ca_cert).not.toBe(pkiRow('c1')!.ca_cert);
  });
});
