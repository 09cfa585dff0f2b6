// The data directory's modes: the hub user's alone, whatever was there before `hub init` and whatever an
// older hub left.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataPaths, initDataDir, secureDataDir } from './data-dir.js';
import { Store } from './store/store.js';

const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'outpost-datadir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('data directory modes', () => {
  it('makes the directory 0700 and every key, token and database file 0600, also in a directory that existed before init', async () => {
    const dir = join(root, 'hub');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await initDataDir(dir, ['127.0.0.1']);
    const p = dataPaths(dir);
    const store = new Store(p.db);
    store.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Project', metadata: { name: 'demo' }, spec: {} }, { actor: 'test' });
    try {
      expect(mode(dir)).toBe('700');
      expect(Object.fromEntries([p.caKey, p.hubKey, p.secretsKey, p.bundleKey, p.adminToken, p.db, `${p.db}-wal`, `${p.db}-shm`].map((f) => [f.slice(dir.length + 1), mode(f)]))).toEqual({
        'ca.key': '600', 'hub.key': '600', 'secrets.key': '600', 'bundle.key': '600', 'admin.token': '600', 'hub.db': '600', 'hub.db-wal': '600', 'hub.db-shm': '600',
      });
      // The certificates are public.
      expect(mode(p.caCert)).toBe('644');
    } finally {
      store.close();
    }
  });

  it('fixes modes an older hub or an operator left open, at the next start', async () => {
    const dir = join(root, 'hub');
    await initDataDir(dir, ['127.0.0.1']);
    const p = dataPaths(dir);
    for (const f of [p.caKey, p.hubKey, p.secretsKey, p.bundleKey, p.adminToken, p.db]) chmodSync(f, 0o644);
    chmodSync(dir, 0o755);
    secureDataDir(dir);
    new Store(p.db).close();
    expect([dir, p.caKey, p.hubKey, p.secretsKey, p.bundleKey, p.adminToken, p.db].map(mode)).toEqual(['700', '600', '600', '600', '600', '600', '600']);
  });
});
