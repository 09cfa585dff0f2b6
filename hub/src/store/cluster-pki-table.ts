// Each Cluster's PKI, in its own table beside the objects: never in an object body, so no list, watch,
// change-log row or agent view carries it by accident. One row per Cluster, written in the Cluster's
// create transaction and deleted in the transaction that finally deletes it (store.ts). What is secret
// arrives here already sealed (hub/src/pki/cluster-pki.ts); this table never sees a private key.
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';

export interface ClusterPkiRow {
  namespace: string;
  name: string;
  /** The Cluster's metadata.uid: the sealed keys are bound to it. */
  uid: string;
  caCertPem: string;
  frontProxyCaCertPem: string;
  etcdCaCertPem: string;
  serviceAccountPublicKeyPem: string;
  /** The private keys, sealed with secrets.key. */
  sealedKeys: Buffer;
  /** RFC 3339. */
  created: string;
}

interface Row {
  namespace: string;
  name: string;
  uid: string;
  ca_cert: string;
  front_proxy_ca_cert: string;
  etcd_ca_cert: string;
  service_account_public_key: string;
  sealed_keys: Buffer;
  created: string;
}

export class ClusterPkiTable {
  private readonly putStmt: Statement<[Row]>;
  private readonly getStmt: Statement<[string, string], Row>;
  private readonly removeStmt: Statement<[string, string]>;

  constructor(db: Db) {
    this.putStmt = db.prepare(
      `INSERT INTO cluster_pki (namespace, name, uid, ca_cert, front_proxy_ca_cert, etcd_ca_cert, service_account_public_key, sealed_keys, created)
       VALUES (@namespace, @name, @uid, @ca_cert, @front_proxy_ca_cert, @etcd_ca_cert, @service_account_public_key, @sealed_keys, @created)`,
    );
    this.getStmt = db.prepare(`SELECT * FROM cluster_pki WHERE namespace = ? AND name = ?`);
    this.removeStmt = db.prepare(`DELETE FROM cluster_pki WHERE namespace = ? AND name = ?`);
  }

  /** Adds a Cluster's row; one already there (a Cluster of that name not yet deleted) is an error. */
  put(r: ClusterPkiRow): void {
    this.putStmt.run({
      namespace: r.namespace, name: r.name, uid: r.uid, ca_cert: r.caCertPem, front_proxy_ca_cert: r.frontProxyCaCertPem,
      etcd_ca_cert: r.etcdCaCertPem, service_account_public_key: r.serviceAccountPublicKeyPem, sealed_keys: r.sealedKeys, created: r.created,
    });
  }

  get(namespace: string, name: string): ClusterPkiRow | undefined {
    const r = this.getStmt.get(namespace, name);
    return r && {
      namespace: r.namespace, name: r.name, uid: r.uid, caCertPem: r.ca_cert, frontProxyCaCertPem: r.front_proxy_ca_cert,
      etcdCaCertPem: r.etcd_ca_cert, serviceAccountPublicKeyPem: r.service_account_public_key, sealedKeys: r.sealed_keys, created: r.created,
    };
  }

  remove(namespace: string, name: string): void {
    this.removeStmt.run(namespace, name);
  }
}
