// The agent process: components with one lifecycle, started in order and stopped in reverse (local state,
// then the reconcilers that read it, then the hub link that feeds them), errors gathered.
import { agentFinalizer, component, ComponentManager, type Cluster, type NamedHealth, type Release, type ResourceObject } from '@outpost/proto';
import pino, { type Logger } from 'pino';
import { ArtifactCache, digestsInUse, HubBlobSource } from './artifacts/index.js';
import { loadIdentity, statePath } from './identity.js';
import { ClusterKeysFetcher } from './link/cluster-keys-fetcher.js';
import { HubLink } from './link/hub-link.js';
import { AGENT_LOG_REDACTION } from './log-redaction.js';
import { ReceivedReconciler } from './reconcile/received-reconciler.js';
import { ReconcileController } from './reconcile/controller.js';
import type { Reconciler } from './reconcile/reconciler.js';
import { SqliteLocalState } from './state/sqlite-local-state.js';
import { AGENT_VERSION } from './version.js';

export interface AgentOptions {
  dataDir: string;
  reconcilers?: readonly Reconciler[];
  backoff?: { baseMs?: number; capMs?: number };
  /** Objects reconciled at once (default 8). */
  concurrency?: number;
  /** How often every object is reconciled again to repair drift (default 10 minutes). */
  resyncMs?: number;
  /** A site agent's artifact cache may hold this many bytes (--artifact-cache-size). Default 20 GiB. */
  artifactCacheBytes?: number;
  /** Artifact downloads go no faster than this, in bytes per second (--artifact-max-rate). Default unlimited. */
  artifactMaxBytesPerSecond?: number;
}

/** --artifact-cache-size's default: a Release's binaries and images several times over. */
export const DEFAULT_ARTIFACT_CACHE_BYTES = 20 * 1024 ** 3;

export interface RunningAgent {
  link: HubLink;
  state: SqliteLocalState;
  reconcile: ReconcileController;
  /** A site agent's artifact cache; a seed's agent has none (it pulls from the Release's registry). */
  artifacts: ArtifactCache | undefined;
  health(): NamedHealth[];
  /** Idempotent; stops the link, then the reconcilers (in-flight work aborted), then closes the state. */
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions, log: Logger = pino({ level: 'info', redact: AGENT_LOG_REDACTION }, pino.destination(2))): Promise<RunningAgent> {
  const identity = loadIdentity(opts.dataDir);
  const state = new SqliteLocalState(statePath(opts.dataDir));
  // The CAs of the Clusters this agent serves, pulled from the hub once per Cluster and kept in state.db.
  const keys = state.clusterKeys();
  const fetcher = new ClusterKeysFetcher({
    state,
    keys,
    request: (refs) => link.requestSecrets(refs),
    onKeys: (key) => reconcile.requeue(key),
    log,
  });
  const artifacts = identity.view.startsWith('site/') ? siteArtifactCache(opts, identity, state, log) : undefined;
  // Each calls the other only once started, so neither needs the other to exist first.
  const link = new HubLink({
    hubUrl: identity.hub,
    agentId: identity.agentId,
    credential: identity.credential,
    caCertPem: identity.caCertPem,
    version: AGENT_VERSION,
    state,
    onApplied: (changes) => {
      reconcile.changed(changes);
      fetcher.check();
    },
    onConnected: () => fetcher.connected(),
    onDisconnected: () => fetcher.disconnected(),
    onSecrets: (secrets) => fetcher.received(secrets),
    backoff: opts.backoff,
    log,
  });
  const reconcile = new ReconcileController({
    state,
    reconcilers: opts.reconcilers ?? [new ReceivedReconciler()],
    journal: state.flowJournal(),
    secrets: keys,
    finalizer: agentFinalizer(identity.view),
    ...(artifacts ? { artifacts } : {}),
    onStatus: () => link.flushStatuses(),
    log,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
  });
  const components = new ComponentManager()
    .add(component({ name: 'local-state', stop: () => state.close(), health: () => ({ ok: true, message: `revision ${state.revision()}` }) }))
    // Before the reconcilers, so it stops after them: downloads end (partials kept) once nobody can ask.
    .add(component({ name: 'artifact-cache', stop: () => artifacts?.stop(), health: () => ({ ok: true, message: artifacts ? `${artifacts.usedBytes()} bytes cached` : 'none (a seed pulls from the Release\'s registry)' }) }))
    .add(reconcile)
    .add(component({ name: 'cluster-keys', stop: () => fetcher.stop(), health: () => ({ ok: true, message: `CAs of ${keys.uids().length} clusters held` }) }))
    // It dials on start and reconnects by itself until stopped.
    .add(component({ name: 'hub-link', start: () => link.start(), stop: () => link.stop(), health: () => ({ ok: link.linkState === 'connected', message: link.linkState }) }));
  await components.start();
  log.info({ agent: identity.agentId, hub: identity.hub, revision: state.revision() }, 'agent started');
  return { link, state, reconcile, artifacts, health: () => components.health(), stop: () => components.stop() };
}

/** The cache a site agent's reconcilers fetch binaries and images from, kept under its data directory. */
export function siteArtifactCache(opts: Pick<AgentOptions, 'dataDir' | 'artifactCacheBytes' | 'artifactMaxBytesPerSecond'>, identity: { hub: string; credential: string; caCertPem: string }, state: { list(kind: string): ResourceObject[] }, log: Logger): ArtifactCache {
  return new ArtifactCache({
    dataDir: opts.dataDir,
    maxBytes: opts.artifactCacheBytes ?? DEFAULT_ARTIFACT_CACHE_BYTES,
    source: new HubBlobSource({ hub: identity.hub, credential: identity.credential, caCertPem: identity.caCertPem }),
    inUse: () => digestsInUse(state.list('Cluster') as Cluster[], state.list('Release') as Release[]),
    ...(opts.artifactMaxBytesPerSecond ? { maxBytesPerSecond: opts.artifactMaxBytesPerSecond } : {}),
    log,
  });
}
