// Schema migrations of the agent's state.db, applied in order inside one transaction each;
// `PRAGMA user_version` records the last (as the hub's store does).
import { FLOW_JOURNAL_SCHEMA } from './sqlite-flow-journal.js';

export const MIGRATIONS: readonly string[] = [
  // 1: the schema agents made on every open before migrations, with CREATE ... IF NOT EXISTS, so a state.db
  // written by such an agent (tables present, user_version 0; last_status only from later ones) passes
  // through unchanged.
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0), ('status_seq', 0);
  CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    body TEXT NOT NULL, generation INTEGER NOT NULL, reconciled_generation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS status_outbox (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  -- The last status queued per object, kept after the hub stores it: the reconcile controller's
  -- StatusBook merges new reports into it, stamps condition times against it and skips a report equal to it.
  CREATE TABLE IF NOT EXISTS last_status (
    kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
  ) WITHOUT ROWID;
  `,
  // 2: a removed object stays as a tombstone (its last-known body) until its reconciler has finalized it;
  // an object being deleted that its reconciler has finalized is not finalized again.
  `
  ALTER TABLE objects ADD COLUMN tombstone INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE objects ADD COLUMN finalized INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: the engine's flow journal (SqliteFlowJournal also makes it if missing, IF NOT EXISTS).
  `${FLOW_JOURNAL_SCHEMA};`,
  // 4: the CAs the hub delivered for the Clusters this agent serves, by Cluster uid (cluster-key-store.ts).
  // In this owner-only file (db.ts), never in an object body, so nothing that logs or reports objects has them.
  `
  CREATE TABLE cluster_keys (
    uid TEXT PRIMARY KEY,
    namespace TEXT NOT NULL, name TEXT NOT NULL,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 5: the air-gapped bundles imported, so the same bundle again is a no-op (bundles/bundle-import.ts).
  `
  CREATE TABLE bundles_imported (id TEXT PRIMARY KEY, target_revision INTEGER NOT NULL, imported TEXT NOT NULL) WITHOUT ROWID;
  `,
  // 6: the hosts a site agent set up for each kubeadm Cluster, by Cluster uid (cluster-hosts.ts): how it
  // reached each, so a host taken out of the Cluster (its Host perhaps deleted too) can still be reset.
  `
  CREATE TABLE cluster_hosts (
    cluster_uid TEXT NOT NULL, host TEXT NOT NULL,
    namespace TEXT NOT NULL, name TEXT NOT NULL,
    role TEXT NOT NULL, joined INTEGER NOT NULL, target TEXT NOT NULL,
    PRIMARY KEY (cluster_uid, host)
  ) WITHOUT ROWID;
  `,
];
