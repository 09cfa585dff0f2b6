// A site with no network gets its Clusters' CAs through bundles, sealed to its agent's encryption key:
// real hub, real `outpost` and `outpost-agent` processes. The agent is enrolled by bundle, its status
// bundle carries the key's public half to the hub, and the next bundle carries the CAs, which the agent
// keeps exactly as the hub holds them; no private key is ever readable in a bundle file.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '@outpost/proto';
import { agentClusterKeys } from '../lib/agent-keys.js';
import { agentDbDump, bundleProject, bundleSite, Clis, putBlobs, release, resignedWith } from '../lib/bundles.js';
import { openKeys, pkiRow } from '../lib/cluster-pki.js';
import { cluster } from '../lib/fixtures.js';
import { TestHub } from '../lib/processes.js';

describe("air-gapped bundles deliver each Cluster's CAs sealed to the site agent", () => {
  let hub: TestHub;
  let clis: Clis;
  const site = 'isle';
  let siteDir: string;
  let enrollFile: string;
  let keysFile: string;
  let uid: string;

  beforeAll(async () => {
    hub = await TestHub.start();
    clis = await Clis.login(hub);
    siteDir = join(hub.dir, 'site-isle');
    enrollFile = join(hub.dir, 'enroll.tar');
    keysFile = join(hub.dir, 'keys.tar');
    await hub.apply(bundleProject(), release('1.33.0', putBlobs(hub.dataDir, 1024)), ...bundleSite(site));
    uid = (await hub.api().get<Cluster>(hub.api().kind('Cluster'), `c-${site}`, 'p')).metadata.uid!;
  }, 60_000);

  afterAll(async () => {
    await hub?.stop();
  });

  const deliveries = (): Array<{ actor: string; name: string }> => {
    const db = new Database(join(hub.dataDir, 'hub.db'), { readonly: true });
    try {
      return db.prepare(`SELECT actor, name FROM audit WHERE verb = 'deliver-cluster-keys' ORDER BY id`).all() as Array<{ actor: string; name: string }>;
    } finally {
      db.close();
    }
  };

  it("an enrolling bundle carries none and says how to get them; the agent's status bundle brings its key to the hub", async () => {
    const made = await clis.outpost('bundle', 'create', '--site', site, '--enroll', '-o', enrollFile);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/this bundle carries no cluster CAs: the hub does not know agent site-isle-bundle-[0-9a-f]+'s encryption key yet/);
    expect(made.stderr).toMatch(/outpost-agent bundle import .*outpost-agent bundle export-status .*outpost bundle import-status .*outpost bundle create --site isle --since/);
    expect(readFileSync(enrollFile).includes('cluster-keys.json')).toBe(false);

    const imported = await clis.agent('bundle', 'import', '--data', siteDir, '--ca-hash', hub.caHash, enrollFile);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/7 artifacts cached, 0 clusters' CAs received/);
    expect(imported.stderr).toMatch(/note: 1 of this site's clusters have no CAs here yet .*export-status/);
    // Made on first need, the agent's alone.
    expect(statSync(join(siteDir, 'encryption.key')).mode & 0o777).toBe(0o600);
    expect(agentClusterKeys(siteDir).size).toBe(0);

    const statusFile = join(hub.dir, 'status.json');
    expect((await clis.agent('bundle', 'export-status', '--data', siteDir, '-o', statusFile)).code).toBe(0);
    const exported = JSON.parse(readFileSync(statusFile, 'utf8')) as { encryptionKey?: string };
    expect(exported.encryptionKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(readFileSync(statusFile, 'utf8')).not.toContain('PRIVATE KEY');
    const recorded = await clis.outpost('bundle', 'import-status', statusFile);
    expect(recorded.stderr).toBe('');
    expect(recorded.stdout).toMatch(/learned agent site-isle-bundle-[0-9a-f]+'s encryption key \(sha256:[0-9a-f]{64}\): the bundles made for it from now on carry its clusters' CAs/);
    // The same status bundle again (it holds no statuses, so it is no replay) changes nothing and says nothing of the key.
    const again = await clis.outpost('bundle', 'import-status', statusFile);
    expect(again.stdout).not.toMatch(/encryption key/);
  }, 90_000);

  it('the next bundle carries them sealed: no private key in the file, and each delivery audited', async () => {
    const before = deliveries().length;
    const made = await clis.outpost('bundle', 'create', '--site', site, '--since', enrollFile, '-o', keysFile);
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(/carries the CAs of 1 of the site's 1 clusters, sealed to agent site-isle-bundle-[0-9a-f]+'s encryption key \(sha256:[0-9a-f]{64}\)/);
    const bytes = readFileSync(keysFile);
    expect(bytes.includes('cluster-keys.json')).toBe(true);
    expect(bytes.includes('PRIVATE KEY')).toBe(false);
    expect(bytes.includes('BEGIN')).toBe(false);
    expect(deliveries().slice(before)).toEqual([{ actor: expect.stringMatching(/^agent:site-isle-bundle-/) as unknown as string, name: `c-${site}` }]);
  }, 60_000);

  it('refuses a sealed blob that does not open, naming the cluster, and applies nothing', async () => {
    const original = readFileSync(keysFile);
    const file = join(hub.dir, 'bad-keys.tar');
    const state = agentDbDump(siteDir);

    // A byte of the ciphertext flipped: the bundle's signature no longer verifies.
    const flipped = Buffer.from(original);
    const at = flipped.indexOf('"ciphertext":"') + '"ciphertext":"'.length + 40;
    flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
    writeFileSync(file, flipped);
    const unsigned = await clis.agent('bundle', 'import', '--data', siteDir, file);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/bundle refused \(TAMPERED\)/);
    expect(agentDbDump(siteDir)).toBe(state);

    // The same change with digest and signature made again with the hub's own key: only the seal itself refuses it.
    writeFileSync(file, resignedWith(original, hub.dataDir, 'cluster-keys.json', (content) => {
      const i = content.indexOf('"ciphertext":"') + '"ciphertext":"'.length + 40;
      content[i] = content[i] === 0x41 ? 0x42 : 0x41;
    }));
    const tampered = await clis.agent('bundle', 'import', '--data', siteDir, file);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/bundle refused \(SEALED_KEYS\): the CAs the bundle carries for Cluster p\/c-isle \(uid [0-9a-f-]+\) do not open with this agent's encryption key \(.*altered.*\); nothing was applied/);
    expect(agentDbDump(siteDir)).toBe(state);

    // Sealed to a key this agent no longer holds (its encryption.key replaced): named as such, with the cure.
    const keyPath = join(siteDir, 'encryption.key');
    renameSync(keyPath, `${keyPath}.kept`);
    writeFileSync(keyPath, generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    try {
      const foreign = await clis.agent('bundle', 'import', '--data', siteDir, keysFile);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(/SEALED_KEYS.*Cluster p\/c-isle .*sealed to encryption key sha256:[0-9a-f]{64}, and this agent's is sha256:[0-9a-f]{64}.*export-status.*import-status/);
      expect(agentDbDump(siteDir)).toBe(state);
    } finally {
      renameSync(`${keyPath}.kept`, keyPath);
    }
  }, 90_000);

  it("the agent keeps the cluster's CAs exactly as the hub holds them", async () => {
    const imported = await clis.agent('bundle', 'import', '--data', siteDir, keysFile);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/imported delta from revision \d+ for site isle: .* 1 clusters' CAs received/);
    const row = pkiRow(hub.dataDir, 'p', `c-${site}`)!;
    expect(row.uid).toBe(uid);
    const opened = openKeys(hub.dataDir, 'p', `c-${site}`, row);
    expect(agentClusterKeys(siteDir).get(uid)).toEqual({
      ca: { certPem: row.ca_cert, keyPem: opened.ca },
      frontProxyCa: { certPem: row.front_proxy_ca_cert, keyPem: opened.frontProxyCa },
      etcdCa: { certPem: row.etcd_ca_cert, keyPem: opened.etcdCa },
      serviceAccount: { publicKeyPem: row.service_account_public_key, privateKeyPem: opened.serviceAccount },
    });
  }, 60_000);

  it('a status bundle whose key was altered is refused by its MAC, and the hub keeps the key it had', async () => {
    const statusFile = join(hub.dir, 'status-2.json');
    expect((await clis.agent('bundle', 'export-status', '--data', siteDir, '-o', statusFile)).code).toBe(0);
    const e = JSON.parse(readFileSync(statusFile, 'utf8')) as Record<string, unknown>;
    const forged = join(hub.dir, 'forged-key.json');
    writeFileSync(forged, JSON.stringify({ ...e, encryptionKey: generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }) }));
    const r = await clis.outpost('bundle', 'import-status', forged);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not signed with that agent's credential/);
    // The next bundle (after a spec change, so it is newer) is still sealed to the agent's own key: it imports.
    const api = hub.api();
    const c = await api.get<Cluster>(api.kind('Cluster'), `c-${site}`, 'p');
    await api.replace({ ...c, spec: { ...c.spec, controlPlane: { ...c.spec!.controlPlane, replicas: 3 } } } as never);
    const next = join(hub.dir, 'next.tar');
    expect((await clis.outpost('bundle', 'create', '--site', site, '--since', keysFile, '-o', next)).stdout).toMatch(/carries the CAs of 1 of/);
    expect((await clis.agent('bundle', 'import', '--data', siteDir, next)).code).toBe(0);
  }, 60_000);

  it('names a Cluster the hub holds no CA of record for, and the agent says it has none for it', async () => {
    // As a Cluster made before the hub kept CAs: its row is gone from hub.db.
    await hub.apply(cluster('c-old', 'p', `dc-${site}`));
    const db = new Database(join(hub.dataDir, 'hub.db'));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(`DELETE FROM cluster_pki WHERE namespace = 'p' AND name = 'c-old'`).run();
    } finally {
      db.close();
    }
    const file = join(hub.dir, 'old.tar');
    const made = await clis.outpost('bundle', 'create', '--site', site, '--since', join(hub.dir, 'next.tar'), '-o', file);
    expect(made.stdout).toMatch(/carries the CAs of 1 of the site's 2 clusters/);
    expect(made.stderr).toMatch(/note: the hub holds no CAs of record for Cluster p\/c-old \(made before the hub kept cluster CAs\)/);
    const imported = await clis.agent('bundle', 'import', '--data', siteDir, file);
    expect(imported.stdout).toMatch(/1 clusters' CAs received/);
    expect(imported.stderr).toMatch(/note: 1 of this site's clusters have no CAs here yet/);
    expect([...agentClusterKeys(siteDir).keys()]).toEqual([uid]);
  }, 60_000);
});
