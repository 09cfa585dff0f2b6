// Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records the last.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);

  -- Every object, as the JSON the API serves. namespace is '' for cluster-scoped kinds.
  CREATE TABLE objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  CREATE INDEX objects_cluster_datacenter ON objects (json_extract(body, '$.spec.datacenter')) WHERE kind = 'Cluster';

  -- The change log every watch reads: one row per write, compacted from the bottom.
  CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    body TEXT NOT NULL
  );

  -- Which view ('site/<name>', 'seed/<name>', or '*' for every agent) holds which object now.
  CREATE TABLE view_members (
    view TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (view, kind, namespace, name)
  ) WITHOUT ROWID;
  CREATE INDEX view_members_object ON view_members (kind, namespace, name);

  -- Per view, which objects changed (entered, changed, left) at which revision. A Sync reads this.
  CREATE TABLE view_changes (
    view TEXT NOT NULL, revision INTEGER NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (view, revision, kind, namespace, name)
  ) WITHOUT ROWID;

  -- Hashes of token secrets and agent credentials; the secrets themselves are never stored.
  CREATE TABLE credentials (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, hash TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL, actor TEXT NOT NULL, verb TEXT NOT NULL,
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER
  );
  `,
  `
  -- An agent's Seed or Site, so a join finds the agents it replaces without reading them all.
  CREATE INDEX objects_agent_target ON objects (json_extract(body, '$.spec.role'), coalesce(json_extract(body, '$.spec.site'), json_extract(body, '$.spec.seed'))) WHERE kind = 'Agent';
  `,
  `
  -- Presence: each agent's liveness, beside the revisioned objects. Written without a revision, a
  -- change-log row or an audit row; the API merges it into Agent status on read (presence-table.ts).
  CREATE TABLE presence (
    agent TEXT PRIMARY KEY,
    connected INTEGER NOT NULL DEFAULT 0,
    connected_since TEXT,
    last_seen TEXT,
    acked_revision INTEGER NOT NULL DEFAULT 0,
    address TEXT,
    version TEXT
  ) WITHOUT ROWID;
  -- What Agents said about themselves until now moves here, and out of their objects.
  INSERT INTO presence (agent, connected, connected_since, last_seen, acked_revision, address, version)
    SELECT name, coalesce(json_extract(body, '$.status.connected'), 0), json_extract(body, '$.status.connectedSince'),
      json_extract(body, '$.status.lastSeen'), coalesce(json_extract(body, '$.status.ackedRevision'), 0),
      json_extract(body, '$.status.address'), json_extract(body, '$.status.version')
    FROM objects WHERE kind = 'Agent';
  UPDATE objects SET body = json_remove(body, '$.status.connected', '$.status.connectedSince', '$.status.lastSeen',
      '$.status.ackedRevision', '$.status.address', '$.status.version')
    WHERE kind = 'Agent';

  -- Audit retention deletes by age.
  CREATE INDEX audit_time ON audit (time);
  `,
  `
  -- An object's writes in the change log, so a continued list reads what the object was at the list's
  -- revision without scanning the log (list-page.ts).
  CREATE INDEX changes_object ON changes (kind, namespace, name, revision);
  `,
  `
  -- Each Cluster's PKI, made with it and deleted with it (cluster-pki-table.ts). The certificates and the
  -- service-account public key are public and stored as they are; the private keys only sealed with
  -- secrets.key, bound to the Cluster's uid, so nothing secret is plaintext in this file.
  CREATE TABLE cluster_pki (
    namespace TEXT NOT NULL, name TEXT NOT NULL,
    uid TEXT NOT NULL,
    ca_cert TEXT NOT NULL,
    front_proxy_ca_cert TEXT NOT NULL,
    etcd_ca_cert TEXT NOT NULL,
    service_account_public_key TEXT NOT NULL,
    sealed_keys BLOB NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
  ) WITHOUT ROWID;
  `,
  `
  -- Air-gapped bundles (bundle-ledger-table.ts): each bundle made, with the blobs it carried, so a delta
  -- --since a revision leaves out what an earlier bundle for the same agent brought; and per agent the last
  -- status seq recorded from a status bundle, so a replayed one is refused.
  CREATE TABLE bundles_made (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, target_revision INTEGER NOT NULL, blobs TEXT NOT NULL, created TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX bundles_made_agent ON bundles_made (agent_id, target_revision);
  CREATE TABLE bundle_status_seq (agent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
  `,
  `
  -- The agent's SSH public key, from its Hello, shown in Agent status (presence-table.ts).
  ALTER TABLE presence ADD COLUMN ssh_public_key TEXT;
  `,
];
