// Reconcilers plug in by kind. Several may serve one kind, each owning the objects it claims (the hosted
// control plane owns Clusters with controlPlane.mode hosted, the kubeadm one the others). Each turns an
// object into reality, says how it went, and tears down what it made when the object goes.
import type { ClusterKeys, JoinSecrets, KindName, ResourceObject, StatusTypes } from '@outpost/proto';
import type { FlowJournal } from '../engine/index.js';
import type { ObjectKey } from '../state/local-state.js';

/**
 * The part of its kind's status message (ClusterStatus, HostStatus) a reconciler reports; the controller
 * merges every report of one object into one status. One type for every kind keeps the controller generic;
 * a field that is not the kind's is refused by the hub, naming it.
 */
export type StatusPatch = Partial<StatusTypes['cluster']> & Partial<StatusTypes['host']>;

/** What a reconciler may read of the agent's view: the objects its object refers to. */
export interface ViewReader {
  get(key: ObjectKey): ResourceObject | undefined;
  list(kind: string): ResourceObject[];
}

/**
 * The secrets the hub delivered to this agent alone: the CAs of each Cluster it serves, keyed by the
 * Cluster's uid (a Cluster deleted and made again under its name has new ones); for a hosted Cluster whose
 * static workers this site agent joins, only the join secrets (token and CA hash), never the CAs.
 */
export interface ClusterSecrets {
  clusterKeys(uid: string): ClusterKeys | undefined;
  clusterJoin?(uid: string): JoinSecrets | undefined;
}

/** Until the hub has delivered any. */
export const NO_CLUSTER_SECRETS: ClusterSecrets = { clusterKeys: () => undefined };

/**
 * The agent's artifact cache, by digest (a site agent's: a seed pulls its images from the Release's
 * registry). fetch resolves to the path of bytes whose digest was checked, downloading them once.
 */
export interface ArtifactFetcher {
  fetch(digest: string, size: number, signal?: AbortSignal): Promise<string>;
  has(digest: string): boolean;
}

/** A host a reconciler set up for a Cluster, as it recorded it in the agent's local state. */
export interface HostRecord {
  host: string;
  /** The role the host was set up for ("control-plane", "worker"). */
  role: string;
  /** Its init or join has begun: it may be a node of the cluster (false: only installed on, never a node). */
  joined: boolean;
  /** How the reconciler reaches it (a site's SSH target, as JSON): what is left once its Host object is gone. */
  target: string;
}

/**
 * The hosts reconcilers set up for each Cluster, by the Cluster's uid: what the agent itself knows it
 * touched, so a host taken out of the Cluster is torn down even when the hub no longer has its Host.
 * Kept until the host is torn down (remove) or the Cluster is finalized.
 */
export interface HostRecords {
  list(clusterUid: string): HostRecord[];
  put(cluster: { uid: string; namespace: string; name: string }, record: HostRecord): void;
  remove(clusterUid: string, host: string): void;
}

export interface ReconcileLog {
  debug(o: object, m: string): void;
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

export interface ReconcileContext {
  /** Fires when the object changes, is deleted or the agent stops: return (or throw) promptly. */
  readonly signal: AbortSignal;
  readonly view: ViewReader;
  readonly secrets: ClusterSecrets;
  /** The artifact cache, on agents that keep one (site agents); absent on a seed's. */
  readonly artifacts?: ArtifactFetcher;
  /** Where flows keep their place, so a kill -9 resumes at the step it was on. */
  readonly journal: FlowJournal;
  /** The hosts reconcilers set up for each Cluster, on agents that keep them (real agents, in state.db). */
  readonly hosts?: HostRecords;
  /** Sends progress now (a flow's lastOperation, say), merged into the object's status; the work goes on. */
  report(patch: StatusPatch): void;
  readonly log: ReconcileLog;
}

export interface ReconcileOutcome {
  /** The status to report at the end, merged like report()'s. */
  status?: StatusPatch;
  /** Run again after this long even if nothing changes (polling what the agent cannot watch). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  /** Unique among the agent's reconcilers; logs name it. */
  readonly name: string;
  readonly kind: KindName;
  /** Whether this reconciler serves `obj`. Must depend on immutable fields only, so ownership never moves. */
  owns(obj: ResourceObject): boolean;
  /** Makes `obj` real. Idempotent: it runs again on every change, dependency change, resync and restart. A throw is retried with backoff. */
  reconcile(obj: ResourceObject, ctx: ReconcileContext): Promise<ReconcileOutcome | void>;
  /**
   * Tears down what reconcile made, for an object being deleted or gone from the view (`lastKnown` is its last
   * state). Idempotent; the hub keeps the object (Terminating) until every owner's finalize has succeeded.
   */
  finalize?(lastKnown: ResourceObject, ctx: ReconcileContext): Promise<void>;
  /**
   * Started with the controller, before any run: a reconciler that watches what it made elsewhere (a seed's
   * objects) calls `requeue` to run an object again at once when it finds drift.
   */
  start?(requeue: (key: ObjectKey) => void): Promise<void>;
  /** Stopped after every run in flight has returned. Idempotent. */
  stop?(): Promise<void>;
}
