// A Cluster's PKI as the hub keeps it in hub.db, read from outside the hub: the row, and its private keys
// opened with the data directory's secrets.key (AES-256-GCM: version, 12-byte nonce, body, 16-byte tag),
// done here with node:crypto alone so the tests check the hub's sealing format, not reuse it.
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface PkiRow {
  uid: string;
  ca_cert: string;
  front_proxy_ca_cert: string;
  etcd_ca_cert: string;
  service_account_public_key: string;
  sealed_keys: Buffer;
}

export interface OpenedKeys {
  ca: string;
  frontProxyCa: string;
  etcdCa: string;
  serviceAccount: string;
}

/** The row of Cluster `name` in project `namespace`, or undefined when it has none. */
export function pkiRow(dataDir: string, namespace: string, name: string): PkiRow | undefined {
  const db = new Database(join(dataDir, 'hub.db'), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM cluster_pki WHERE namespace = ? AND name = ?`).get(namespace, name) as PkiRow | undefined;
  } finally {
    db.close();
  }
}

/** The row's private keys (PEM), opened with the hub's secrets.key. */
export function openKeys(dataDir: string, namespace: string, name: string, row: PkiRow): OpenedKeys {
  const key = Buffer.from(readFileSync(join(dataDir, 'secrets.key'), 'utf8').trim(), 'base64');
  const s = row.sealed_keys;
  const d = createDecipheriv('aes-256-gcm', key, s.subarray(1, 13)).setAAD(Buffer.from(`cluster-pki/${namespace}/${name}/${row.uid}`)).setAuthTag(s.subarray(s.length - 16));
  return JSON.parse(Buffer.concat([d.update(s.subarray(13, s.length - 16)), d.final()]).toString('utf8')) as OpenedKeys;
}
