// The hub's store: objects, one global strictly increasing revision, the change log watches read, and
// per-view change logs agents pull from. Everything a write touches happens in one SQLite transaction.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { keyOf, rfc3339, type Agent, type Cluster, type Datacenter, type Host, type ObjectKey, type ObjectMeta, type ResourceObject } from '@outpost/proto';
import { AlreadyExistsError, ConflictError, NotFoundError, type ObjectName } from '../errors.js';
import type { Transaction } from 'better-sqlite3';
import { systemClock, timestamp, type Clock } from '../clock.js';
import { finalizersFor, servingFinalizers } from './agent-finalizers.js';
import { AgentKeysTable } from './agent-keys-table.js';
import { BundleLedgerTable } from './bundle-ledger-table.js';
import { ClusterPkiTable } from './cluster-pki-table.js';
import { openDb, type Db } from './db.js';
import { readPage, type Page, type PageOptions } from './list-page.js';
import type { LabelRequirements } from './label-requirement.js';
import { PresenceTable, withoutPresence } from './presence-table.js';
import { ALL_AGENTS_VIEW, dependentsOf, siteView, viewsOf, workerSites, type ViewLookup } from './views.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreChange {
  revision: number;
  type: ChangeType;
  object: ResourceObject;
}

/** Who writes, for the audit log. */
export interface WriteContext {
  actor: string;
}

export interface WriteOptions {
  /** Refuse the write with ConflictError unless the object's resourceVersion is this. */
  expectResourceVersion?: string | undefined;
}

export interface StatusWriteOptions extends WriteOptions {
  /** The API's record of who owns which status field (see hub/src/api/managed-fields.ts); kept when absent. */
  managedFields?: ObjectMeta['managedFields'] | undefined;
}

export interface ReplaceOptions extends WriteOptions {
  /**
   * The request sets metadata.finalizers exactly (a merge patch): agent finalizers it leaves out are
   * removed. Otherwise (a PUT, `outpost apply`) the agent finalizers the object carries are kept.
   */
  exactFinalizers?: boolean | undefined;
}

export interface ViewSync {
  snapshot: boolean;
  revision: number;
  /** Objects now in the view (upserts), and keys that left it or were deleted. */
  upserts: ResourceObject[];
  removals: ObjectKey[];
}

export interface ListOptions {
  namespace?: string | undefined;
  labelSelector?: LabelRequirements | undefined;
}

type Listener = (changes: readonly StoreChange[], touchedViews: ReadonlySet<string>) => void;

/** Runs inside an object's create transaction, after it is stored; throwing rolls the create back. */
export type CreateHook = (stored: ResourceObject) => void;

interface Row {
  body: string;
}

function nameOf(k: ObjectKey): ObjectName {
  return { kind: k.kind, namespace: k.namespace || undefined, name: k.name };
}

/** Thrown to end a dry run's transaction: better-sqlite3 rolls back a transaction whose function throws. */
const ROLLBACK = Symbol('dry run');

export class Store {
  private readonly db: Db;
  private readonly listeners = new Set<Listener>();
  private pending: StoreChange[] = [];
  private pendingViews = new Set<string>();
  private outbox: Array<[StoreChange[], Set<string>]> = [];
  private dispatching = false;
  private readonly stmts;
  private readonly lookup: ViewLookup;
  /** syncView's reads as one transaction, made once: syncView runs for every agent's every pull. */
  private readonly readViewTx: Transaction<(view: string, since: number) => ViewSync>;
  /** A page's reads (revision, rows, change log) as one read transaction, as syncView's. */
  private readonly readPageTx: Transaction<(kind: string, opts: PageOptions) => Page<ResourceObject>>;

  /** Agents' presence, beside the objects: no revision, change-log or audit row (presence-table.ts). */
  readonly presence: PresenceTable;
  /** Each Cluster's sealed PKI: written by a create hook, removed here when the Cluster is finally deleted. */
  readonly clusterPki: ClusterPkiTable;
  /** Air-gapped bundles made and status bundles recorded (bundle-ledger-table.ts). */
  readonly bundleLedger: BundleLedgerTable;
  /** Agents' encryption keys, learned from their status bundles (agent-keys-table.ts); removed with the Agent. */
  readonly agentKeys: AgentKeysTable;
  private readonly createHooks = new Map<string, CreateHook[]>();
  private readonly clock: Clock;

  /** `readonly`: a gateway process's reader; writes throw. `clock`: the time of timestamps and audit rows. */
  constructor(path: string, opts: { readonly?: boolean; clock?: Clock } = {}) {
    this.db = openDb(path, opts);
    this.clock = opts.clock ?? systemClock;
    const db = this.db;
    this.stmts = {
      revision: db.prepare<[], { value: number }>(`SELECT value FROM meta WHERE key = 'revision'`),
      compacted: db.prepare<[], { value: number }>(`SELECT value FROM meta WHERE key = 'compacted'`),
      setMeta: db.prepare<[number, string]>(`UPDATE meta SET value = ? WHERE key = ?`),
      get: db.prepare<[string, string, string], Row>(`SELECT body FROM objects WHERE kind = ? AND namespace = ? AND name = ?`),
      listKind: db.prepare<[string], Row>(`SELECT body FROM objects WHERE kind = ? ORDER BY namespace, name`),
      clusterVersions: db.prepare<[], { namespace: string; name: string; version: string | null }>(`SELECT namespace, name, json_extract(body, '$.spec.version') AS version FROM objects WHERE kind = 'Cluster'`),
      listKindNs: db.prepare<[string, string], Row>(`SELECT body FROM objects WHERE kind = ? AND namespace = ? ORDER BY name`),
      put: db.prepare<[string, string, string, number, string]>(
        `INSERT INTO objects (kind, namespace, name, revision, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, namespace, name) DO UPDATE SET revision = excluded.revision, body = excluded.body`,
      ),
      del: db.prepare<[string, string, string]>(`DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?`),
      logChange: db.prepare<[number, string, string, string, string, string]>(
        `INSERT INTO changes (revision, type, kind, namespace, name, body) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      changesSince: db.prepare<[number, number], { revision: number; type: ChangeType; body: string }>(
        `SELECT revision, type, body FROM changes WHERE revision > ? ORDER BY revision LIMIT ?`,
      ),
      clustersInDc: db.prepare<[string], Row>(`SELECT body FROM objects WHERE kind = 'Cluster' AND json_extract(body, '$.spec.datacenter') = ?`),
      clustersUsingHost: db.prepare<{ host: string }, Row>(
        `SELECT body FROM objects WHERE kind = 'Cluster'
         AND (EXISTS (SELECT 1 FROM json_each(json_extract(body, '$.spec.controlPlane.hosts')) WHERE value = @host)
           OR EXISTS (SELECT 1 FROM json_each(json_extract(body, '$.spec.workers')) AS w, json_each(json_extract(w.value, '$.hosts')) AS h WHERE h.value = @host))`,
      ),
      clustersUsingKey: db.prepare<[string, string], Row>(
        `SELECT body FROM objects WHERE kind = 'Cluster' AND namespace = ?
         AND EXISTS (SELECT 1 FROM json_each(json_extract(body, '$.spec.sshKeys')) WHERE value = ?)`,
      ),
      memberViews: db.prepare<[string, string, string], { view: string }>(`SELECT view FROM view_members WHERE kind = ? AND namespace = ? AND name = ?`),
      addMember: db.prepare<[string, string, string, string]>(`INSERT OR IGNORE INTO view_members (view, kind, namespace, name) VALUES (?, ?, ?, ?)`),
      removeMember: db.prepare<[string, string, string, string]>(`DELETE FROM view_members WHERE view = ? AND kind = ? AND namespace = ? AND name = ?`),
      isMember: db.prepare<[string, string, string, string], { one: number }>(
        `SELECT 1 AS one FROM view_members WHERE view = ? AND kind = ? AND namespace = ? AND name = ?`,
      ),
      viewChange: db.prepare<[string, number, string, string, string]>(
        `INSERT OR IGNORE INTO view_changes (view, revision, kind, namespace, name) VALUES (?, ?, ?, ?, ?)`,
      ),
      viewChangedSince: db.prepare<[string, number], { kind: string; namespace: string; name: string }>(
        `SELECT DISTINCT kind, namespace, name FROM view_changes WHERE view IN (?, '${ALL_AGENTS_VIEW}') AND revision > ?`,
      ),
      viewSnapshot: db.prepare<[string], Row>(
        `SELECT o.body FROM view_members m JOIN objects o USING (kind, namespace, name) WHERE m.view IN (?, '${ALL_AGENTS_VIEW}')`,
      ),
      audit: db.prepare<[string, string, string, string, string, string, number | null]>(
        `INSERT INTO audit (time, actor, verb, kind, namespace, name, revision) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      putCredential: db.prepare<[string, string, string]>(`INSERT INTO credentials (id, type, hash) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET type = excluded.type, hash = excluded.hash`),
      credential: db.prepare<[string], { type: string; hash: string }>(`SELECT type, hash FROM credentials WHERE id = ?`),
      deleteCredential: db.prepare<[string]>(`DELETE FROM credentials WHERE id = ?`),
      agentsServing: db.prepare<[string, string], Row>(
        `SELECT body FROM objects WHERE kind = 'Agent' AND json_extract(body, '$.spec.role') = ?
         AND coalesce(json_extract(body, '$.spec.site'), json_extract(body, '$.spec.seed')) = ?`,
      ),
      compactChanges: db.prepare<[number]>(`DELETE FROM changes WHERE revision <= ?`),
      compactViewChanges: db.prepare<[number]>(`DELETE FROM view_changes WHERE revision <= ?`),
      auditCount: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM audit`),
      // Two index lookups, not a scan: an upper bound of the rows (ids only grow, the oldest go first).
      auditSpan: db.prepare<[], { n: number }>(`SELECT coalesce(max(id) - min(id) + 1, 0) AS n FROM audit`),
      // The id of the newest row beyond the newest `keep` (ids only grow): it and all below it go.
      auditBeyond: db.prepare<[number], { id: number }>(`SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?`),
      pruneAudit: db.prepare<{ before: string; upToId: number; limit: number }>(
        `DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time < @before OR id <= @upToId ORDER BY id LIMIT @limit)`,
      ),
    };
    this.presence = new PresenceTable(db);
    this.clusterPki = new ClusterPkiTable(db);
    this.bundleLedger = new BundleLedgerTable(db);
    this.agentKeys = new AgentKeysTable(db);
    this.lookup = {
      datacenter: (name) => this.get<Datacenter>('Datacenter', '', name),
      host: (name) => this.get<Host>('Host', '', name),
      clustersUsingKey: (ns, key) => this.stmts.clustersUsingKey.all(ns, key).map((r) => JSON.parse(r.body) as Cluster),
    };
    this.readViewTx = db.transaction((view: string, since: number) => this.readView(view, since));
    this.readPageTx = db.transaction((kind: string, opts: PageOptions) => readPage(db, kind, opts, this.revision(), this.compactedRevision()));
  }

  close(): void {
    this.db.close();
  }

  /** Calls `fn` after every committed write with what it changed and which views it touched. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  revision(): number {
    return this.stmts.revision.get()!.value;
  }

  compactedRevision(): number {
    return this.stmts.compacted.get()!.value;
  }

  get<T extends ResourceObject = ResourceObject>(kind: string, namespace: string, name: string): T | undefined {
    const row = this.stmts.get.get(kind, namespace, name);
    return row ? (JSON.parse(row.body) as T) : undefined;
  }

  mustGet<T extends ResourceObject = ResourceObject>(kind: string, namespace: string, name: string): T {
    const obj = this.get<T>(kind, namespace, name);
    if (!obj) throw new NotFoundError({ kind, namespace, name });
    return obj;
  }

  /** Every object of `kind` (in `namespace`) that the selector matches, in key order. */
  list<T extends ResourceObject = ResourceObject>(kind: string, opts: ListOptions = {}): T[] {
    if (!opts.labelSelector) {
      const rows = opts.namespace !== undefined ? this.stmts.listKindNs.all(kind, opts.namespace) : this.stmts.listKind.all(kind);
      return rows.map((r) => JSON.parse(r.body) as T);
    }
    return this.listPage<T>(kind, { namespace: opts.namespace, labelSelector: opts.labelSelector }).items;
  }

  /**
   * One page of a list, read by key range in SQL (see list-page.ts): up to `limit` matching objects
   * after `after`, as they were at `atRevision` (default now). Throws ListExpiredError when that
   * revision's state of the range can no longer be read from the change log.
   */
  listPage<T extends ResourceObject = ResourceObject>(kind: string, opts: PageOptions): Page<T> {
    return this.readPageTx.deferred(kind, opts) as Page<T>;
  }

  /**
   * Every Cluster's key and spec.version, read in SQL: a fleet-wide question (which Clusters a new Release
   * is for) without parsing 100,000 bodies.
   */
  clusterVersions(): Array<ObjectKey & { version: string }> {
    return this.stmts.clusterVersions.all().map((r) => ({ kind: 'Cluster', namespace: r.namespace, name: r.name, version: r.version ?? '' }));
  }

  /** The Clusters placed in `datacenter`, in every project (by the index on spec.datacenter). */
  clustersIn(datacenter: string): Cluster[] {
    return this.stmts.clustersInDc.all(datacenter).map((r) => JSON.parse(r.body) as Cluster);
  }

  /** The Clusters, in every project, that name Host `host` in spec.controlPlane.hosts or a worker pool. */
  clustersUsingHost(host: string): Cluster[] {
    return this.stmts.clustersUsingHost.all({ host }).map((r) => JSON.parse(r.body) as Cluster);
  }

  /** The Agents serving one Seed or Site (normally one; more only while a newer join replaces it). */
  agentsServing(role: 'seed' | 'site', target: string): Agent[] {
    return this.stmts.agentsServing.all(role, target).map((r) => JSON.parse(r.body) as Agent);
  }

  /**
   * Adds a write that rides in every create of `kind`, in its transaction (a Cluster's PKI row), so the
   * object never exists without it. Returns a function that removes the hook.
   */
  onCreate(kind: string, hook: CreateHook): () => void {
    const hooks = this.createHooks.get(kind) ?? [];
    this.createHooks.set(kind, [...hooks, hook]);
    return () => this.createHooks.set(kind, (this.createHooks.get(kind) ?? []).filter((h) => h !== hook));
  }

  /**
   * An audit row for something done that is not a write of an object (a kubeconfig handed out), at no
   * revision.
   */
  recordAudit(ctx: WriteContext, verb: string, k: ObjectKey): void {
    this.stmts.audit.run(timestamp(this.clock), ctx.actor, verb, k.kind, k.namespace, k.name, null);
  }

  /** Runs `fn` in one transaction; listeners hear about its writes only after it commits. */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      this.pending = [];
      this.pendingViews = new Set();
      throw err;
    }
    const changes = this.pending;
    const views = this.pendingViews;
    this.pending = [];
    this.pendingViews = new Set();
    if (changes.length > 0) this.dispatch(changes, views);
    return result;
  }

  /**
   * Runs `fn` exactly as a write runs (every check, every revision, finalizer and membership it would take)
   * and then rolls all of it back: the answer to a server-side dry run. Nothing is written, audited or told
   * to listeners, so a dry run can never be the write it only describes.
   */
  dryRun<T>(fn: () => T): T {
    if (this.db.inTransaction) throw new Error('a dry run cannot run inside another transaction: it would roll that one back too');
    let result: { value: T } | undefined;
    try {
      this.db.transaction(() => {
        result = { value: fn() };
        throw ROLLBACK;
      }).immediate();
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    } finally {
      this.pending = [];
      this.pendingViews = new Set();
    }
    return result!.value;
  }

  /**
   * Tells listeners, in revision order. A listener that writes (a controller) only queues its own
   * changes here; they go out after the current ones, so no listener sees revision N+1 before N.
   */
  private dispatch(changes: StoreChange[], views: Set<string>): void {
    this.outbox.push([changes, views]);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.outbox.shift(); next; next = this.outbox.shift()) {
        for (const l of this.listeners) l(next[0], next[1]);
      }
    } finally {
      this.dispatching = false;
      this.outbox = [];
    }
  }

  create<T extends ResourceObject>(obj: T, ctx: WriteContext): T {
    return this.transaction(() => {
      const k = keyOf(obj);
      if (this.stmts.get.get(k.kind, k.namespace, k.name)) throw new AlreadyExistsError(nameOf(k));
      const revision = this.nextRevision();
      // Once per write: the serving finalizers and the view membership both come from it.
      const views = viewsOf(obj, this.lookup);
      const finalizers = finalizersFor({ requested: obj.metadata.finalizers, serving: servingFinalizers(obj, views), exact: false, beingDeleted: false });
      const stored: T = {
        ...obj,
        metadata: {
          ...obj.metadata,
          ...(finalizers ? { finalizers } : {}),
          uid: randomUUID(),
          resourceVersion: String(revision),
          generation: 1,
          creationTimestamp: timestamp(this.clock),
          deletionTimestamp: undefined,
        },
      };
      this.commitWrite(revision, 'ADDED', undefined, stored, ctx, 'create', views);
      for (const hook of this.createHooks.get(stored.kind) ?? []) hook(stored);
      if (stored.kind === 'Datacenter') this.holdClustersOf(k.name, ctx);
      return stored;
    });
  }

  /**
   * Replaces an object's metadata (user-settable parts) and spec; status is kept. The generation goes up
   * only when the spec changes. Removing the last finalizer of an object being deleted deletes it. Agent
   * finalizers are kept unless `opts.exactFinalizers` (see agent-finalizers.ts).
   */
  replace<T extends ResourceObject>(obj: T, ctx: WriteContext, opts: ReplaceOptions = {}): T {
    return this.transaction(() => {
      const k = keyOf(obj);
      const current = this.mustGetForWrite<T>(k, opts);
      const revision = this.nextRevision();
      const specChanged = !isDeepStrictEqual(obj.spec ?? null, current.spec ?? null);
      const views = viewsOf(obj, this.lookup);
      const finalizers = finalizersFor({
        requested: obj.metadata.finalizers,
        current: current.metadata.finalizers,
        serving: servingFinalizers(obj, views),
        exact: opts.exactFinalizers ?? false,
        beingDeleted: !!current.metadata.deletionTimestamp,
      });
      const { finalizers: _requested, ...requestedMeta } = obj.metadata;
      const stored: T = {
        ...obj,
        metadata: {
          ...requestedMeta,
          ...(finalizers ? { finalizers } : {}),
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          deletionTimestamp: current.metadata.deletionTimestamp,
          resourceVersion: String(revision),
          generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
        },
        status: current.status,
      };
      if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length) {
        this.commitWrite(revision, 'DELETED', current, undefined, ctx, 'delete');
        return stored;
      }
      this.commitWrite(revision, 'MODIFIED', current, stored, ctx, 'replace', views);
      if (stored.kind === 'Datacenter') this.holdClustersOf(k.name, ctx);
      return stored;
    });
  }

  /**
   * Removes one finalizer, in one transaction; removing the last one of an object being deleted deletes
   * it. Returns the object as stored now, or undefined when it is gone (or was already). A finalizer the
   * object does not carry writes nothing.
   */
  removeFinalizer(k: ObjectKey, finalizer: string, ctx: WriteContext): ResourceObject | undefined {
    return this.transaction(() => {
      const current = this.get(k.kind, k.namespace, k.name);
      if (!current?.metadata.finalizers?.includes(finalizer)) return current;
      const revision = this.nextRevision();
      const finalizers = current.metadata.finalizers.filter((f) => f !== finalizer);
      if (current.metadata.deletionTimestamp && finalizers.length === 0) {
        this.commitWrite(revision, 'DELETED', current, undefined, ctx, 'delete');
        return undefined;
      }
      const stored = { ...current, metadata: { ...current.metadata, finalizers, resourceVersion: String(revision) } };
      this.commitWrite(revision, 'MODIFIED', current, stored, ctx, 'remove-finalizer');
      return stored;
    });
  }

  /**
   * Writes only the status. Agents do not see it (views carry desired state), watches do. An Agent's
   * presence fields are dropped: they live in the presence table, not in the object.
   */
  replaceStatus<T extends ResourceObject>(k: ObjectKey, status: T['status'], ctx: WriteContext, opts: StatusWriteOptions = {}): T {
    return this.transaction(() => {
      const current = this.mustGetForWrite<T>(k, opts);
      const revision = this.nextRevision();
      const { managedFields: _was, ...meta } = current.metadata;
      const managedFields = opts.managedFields ?? current.metadata.managedFields;
      const metadata = { ...meta, ...(managedFields?.length ? { managedFields } : {}), resourceVersion: String(revision) };
      const stored: T = { ...current, metadata, status: k.kind === 'Agent' ? withoutPresence(status as Agent['status']) : status };
      // One encoding for the row and its change-log entry: this is every agent status report's path.
      const body = JSON.stringify(stored);
      this.stmts.put.run(k.kind, k.namespace, k.name, revision, body);
      this.stmts.logChange.run(revision, 'MODIFIED', k.kind, k.namespace, k.name, body);
      this.stmts.audit.run(timestamp(this.clock), ctx.actor, 'update-status', k.kind, k.namespace, k.name, revision);
      this.pending.push({ revision, type: 'MODIFIED', object: stored });
      if (k.kind === 'Cluster') this.announceEndpoint(current as unknown as Cluster, stored as unknown as Cluster, revision);
      return stored;
    });
  }

  /**
   * A status write reaches no agent's view (agents report status; they need not hear it back), with one
   * exception: a hosted Cluster's endpoint, which the seed's agent reports and its static workers' site
   * agent joins them to. A change of it is a change to that site's view.
   */
  private announceEndpoint(before: Cluster, after: Cluster, revision: number): void {
    if (before.status?.endpoint === after.status?.endpoint) return;
    for (const site of workerSites(after, this.lookup)) {
      const view = siteView(site);
      this.stmts.viewChange.run(view, revision, 'Cluster', after.metadata.namespace ?? '', after.metadata.name ?? '');
      this.pendingViews.add(view);
    }
  }

  /**
   * Deletes an object; one with finalizers is only marked (deletionTimestamp) until they are removed.
   * Returns the object as it was last stored.
   */
  delete(k: ObjectKey, ctx: WriteContext, opts: WriteOptions = {}): ResourceObject {
    return this.transaction(() => {
      const current = this.mustGetForWrite<ResourceObject>(k, opts);
      if (current.metadata.finalizers?.length && current.metadata.deletionTimestamp) return current;
      const revision = this.nextRevision();
      if (current.metadata.finalizers?.length) {
        const marked = { ...current, metadata: { ...current.metadata, deletionTimestamp: timestamp(this.clock), resourceVersion: String(revision) } };
        this.commitWrite(revision, 'MODIFIED', current, marked, ctx, 'delete');
        return marked;
      }
      this.commitWrite(revision, 'DELETED', current, undefined, ctx, 'delete');
      return { ...current, metadata: { ...current.metadata, resourceVersion: String(revision) } };
    });
  }

  /**
   * Writes from the global change log after `revision`, for watches: the first `limit` of them (all
   * when -1), so a watch from long ago reads the log a page at a time. Undefined when compacted past it.
   */
  changesSince(revision: number, limit = -1): StoreChange[] | undefined {
    if (revision < this.compactedRevision()) return undefined;
    return this.stmts.changesSince.all(revision, limit).map((r) => ({ revision: r.revision, type: r.type, object: JSON.parse(r.body) as ResourceObject }));
  }

  /**
   * What an agent of `view` needs to go from `since` to now. A snapshot when `since` is 0 or older than
   * the compacted log; otherwise the objects that entered or changed (current state) and those that left.
   */
  syncView(view: string, since: number): ViewSync {
    // One read transaction: in a gateway process the primary may commit between these reads. Inside a
    // writer's transaction better-sqlite3 makes it a savepoint.
    return this.readViewTx.deferred(view, since);
  }

  private readView(view: string, since: number): ViewSync {
    const revision = this.revision();
    if (since === 0 || since < this.compactedRevision() || since > revision) {
      const upserts = this.stmts.viewSnapshot.all(view).map((r) => JSON.parse(r.body) as ResourceObject);
      return { snapshot: true, revision, upserts, removals: [] };
    }
    const upserts: ResourceObject[] = [];
    const removals: ObjectKey[] = [];
    for (const k of this.stmts.viewChangedSince.all(view, since)) {
      const inView = this.stmts.isMember.get(view, k.kind, k.namespace, k.name) ?? this.stmts.isMember.get(ALL_AGENTS_VIEW, k.kind, k.namespace, k.name);
      const obj = inView ? this.get(k.kind, k.namespace, k.name) : undefined;
      if (obj) upserts.push(obj);
      else removals.push({ kind: k.kind, namespace: k.namespace, name: k.name });
    }
    return { snapshot: false, revision, upserts, removals };
  }

  inView(view: string, k: ObjectKey): boolean {
    return this.stmts.isMember.get(view, k.kind, k.namespace, k.name) !== undefined;
  }

  /** Drops change-log entries at or below `revision`; syncs and watches from before it get a snapshot / 410. */
  compact(revision: number): void {
    this.transaction(() => {
      const upTo = Math.min(revision, this.revision());
      if (upTo <= this.compactedRevision()) return;
      this.stmts.compactChanges.run(upTo);
      this.stmts.compactViewChanges.run(upTo);
      this.stmts.setMeta.run(upTo, 'compacted');
    });
  }

  /** Rows in the audit log. */
  auditCount(): number {
    return this.stmts.auditCount.get()!.n;
  }

  /** At least the rows in the audit log, found in constant time (ids only grow; pruning takes the oldest). */
  auditSpan(): number {
    return this.stmts.auditSpan.get()!.n;
  }

  /**
   * Deletes up to `limit` of the oldest audit rows that are older than `before` or beyond the newest
   * `maxRows`. Returns how many went; the caller repeats while that is `limit`, yielding in between, so
   * pruning a large backlog never holds the event loop for long.
   */
  pruneAudit(before: Date, maxRows: number, limit: number): number {
    const upToId = this.stmts.auditBeyond.get(maxRows)?.id ?? 0;
    return this.stmts.pruneAudit.run({ before: rfc3339(before), upToId, limit }).changes;
  }

  /** The credential store: hashes of token secrets and agent credentials, by id. */
  putCredential(id: string, type: string, hash: string): void {
    this.stmts.putCredential.run(id, type, hash);
  }

  credential(id: string): { type: string; hash: string } | undefined {
    return this.stmts.credential.get(id);
  }

  deleteCredential(id: string): void {
    this.stmts.deleteCredential.run(id);
  }

  /**
   * A Datacenter now served by another Seed or Site moves its Clusters into that agent's view: each one
   * that lacks the new agent's finalizer gets it (a replace of its own, so watches and agents see it).
   */
  private holdClustersOf(datacenter: string, ctx: WriteContext): void {
    for (const c of this.clustersIn(datacenter)) {
      if (c.metadata.deletionTimestamp) continue;
      const has = new Set(c.metadata.finalizers ?? []);
      if (servingFinalizers(c, viewsOf(c, this.lookup)).every((f) => has.has(f))) continue;
      this.replace(c, ctx);
    }
  }

  private nextRevision(): number {
    const revision = this.revision() + 1;
    this.stmts.setMeta.run(revision, 'revision');
    return revision;
  }

  private mustGetForWrite<T extends ResourceObject>(k: ObjectKey, opts: WriteOptions): T {
    const current = this.get<T>(k.kind, k.namespace, k.name);
    if (!current) throw new NotFoundError(nameOf(k));
    const expected = opts.expectResourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) {
      throw new ConflictError(nameOf(k), expected, current.metadata.resourceVersion ?? '');
    }
    return current;
  }

  /** `views`: those of `after`, when the caller has them already (viewsOf reads the store). */
  private commitWrite(revision: number, type: ChangeType, before: ResourceObject | undefined, after: ResourceObject | undefined, ctx: WriteContext, verb: string, views?: readonly string[]): void {
    const obj = (after ?? before)!;
    const k = keyOf(obj);
    // A written object's row and change-log entry are the same JSON: encoded once.
    const afterJson = after ? JSON.stringify(after) : undefined;
    if (afterJson !== undefined) this.stmts.put.run(k.kind, k.namespace, k.name, revision, afterJson);
    else this.stmts.del.run(k.kind, k.namespace, k.name);
    if (!after && k.kind === 'Agent') this.presence.remove(k.name);
    if (!after && k.kind === 'Agent') this.agentKeys.remove(k.name);
    if (!after && k.kind === 'Cluster') this.clusterPki.remove(k.namespace, k.name);
    const logged = after ?? { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
    this.stmts.logChange.run(revision, type, k.kind, k.namespace, k.name, afterJson ?? JSON.stringify(logged));
    this.stmts.audit.run(timestamp(this.clock), ctx.actor, verb, k.kind, k.namespace, k.name, revision);
    this.pending.push({ revision, type, object: logged });

    this.updateMembership(k, after, revision, true, views);
    for (const dep of dependentsOf(before, after, (dc) => this.clustersIn(dc), (host) => this.clustersUsingHost(host))) {
      this.updateMembership(dep, this.get(dep.kind, dep.namespace, dep.name), revision, false);
    }
  }

  /**
   * Brings `k`'s view membership in line with `obj` (absent: deleted). Every view it enters or leaves, and
   * (when its content changed) every view it stays in, gets a view-change row at `revision`.
   */
  private updateMembership(k: ObjectKey, obj: ResourceObject | undefined, revision: number, contentChanged: boolean, views?: readonly string[]): void {
    const before = new Set(this.stmts.memberViews.all(k.kind, k.namespace, k.name).map((r) => r.view));
    const after = new Set(obj ? (views ?? viewsOf(obj, this.lookup)) : []);
    for (const view of new Set([...before, ...after])) {
      const moved = before.has(view) !== after.has(view);
      if (!moved && !contentChanged) continue;
      if (after.has(view)) this.stmts.addMember.run(view, k.kind, k.namespace, k.name);
      else this.stmts.removeMember.run(view, k.kind, k.namespace, k.name);
      this.stmts.viewChange.run(view, revision, k.kind, k.namespace, k.name);
      this.pendingViews.add(view);
    }
  }
}
