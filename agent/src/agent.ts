// The agent process: components with one lifecycle, started in order and stopped in reverse (local state,
// then the reconcilers that read it, then the hub link that feeds them), errors gathered.
import { agentFinalizer, component, ComponentManager, keyOf, type Cluster, type NamedHealth, type Release, type ResourceObject } from '@outpost/proto';
import pino, { type Logger } from 'pino';
import { ArtifactCache, DEFAULT_ARTIFACT_CACHE_BYTES, digestsInUse, HubBlobSource } from './artifacts/index.js';
import { ensureEncryptionKey } from './encryption-key.js';
import { loadIdentity, saveIdentity, statePath } from './identity.js';
import { ClusterKeysFetcher } from './link/cluster-keys-fetcher.js';
import { HubLink } from './link/hub-link.js';
import { AGENT_LOG_REDACTION } from './log-redaction.js';
import { ReceivedReconciler } from './reconcile/received-reconciler.js';
import { ReconcileController } from './reconcile/controller.js';
import type { Reconciler } from './reconcile/reconciler.js';
import { ensureAgentSshKey } from './site/ssh/agent-ssh-key.js';
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
  /** Reconcile what local state holds without dialling the hub (a site fed by bundles). */
  offline?: boolean;
}

export { DEFAULT_ARTIFACT_CACHE_BYTES };

export interface RunningAgent {
  /** Absent when offline. */
  link: HubLink | undefined;
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
  // Made at join; an agent that joined before agents had one gets it now.
  const sshKey = ensureAgentSshKey(opts.dataDir, identity.agentId);
  // Made at join too (or by a bundle import); told in every Hello, so bundles made while this agent is
  // away carry its Clusters' CAs.
  const encryptionKey = ensureEncryptionKey(opts.dataDir);
  const state = new SqliteLocalState(statePath(opts.dataDir));
  // The CAs of the Clusters this agent serves, pulled from the hub once per Cluster and kept in state.db.
  const keys = state.clusterKeys();
  const fetcher = new ClusterKeysFetcher({
    state,
    keys,
    request: (refs) => link?.requestSecrets(refs) ?? false,
    onKeys: (key) => reconcile.requeue(key),
    log,
  });
  const artifacts = identity.view.startsWith('site/') ? siteArtifactCache(opts, identity, state, log) : undefined;
  // Each calls the other only once started, so neither needs the other to exist first.
  const link = opts.offline ? undefined : new HubLink({
    hubUrl: identity.hub,
    agentId: identity.agentId,
    credential: identity.credential,
    caCertPem: identity.caCertPem,
    version: AGENT_VERSION,
    sshPublicKey: sshKey.publicKey,
    encryptionPublicKey: encryptionKey.publicKeyPem,
    state,
    onApplied: (changes) => {
      reconcile.changed(changes);
      fetcher.check();
    },
    onConnected: () => fetcher.connected(),
    onDisconnected: () => fetcher.disconnected(),
    onSecrets: (secrets) => fetcher.received(secrets),
    onBundleKey: (pem) => pinBundleKey(opts.dataDir, pem, log),
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
    hosts: state.clusterHosts(),
    onStatus: () => link?.flushStatuses(),
    log,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
  });
  const components = new ComponentManager()
    .add(component({ name: 'local-state', stop: () => state.close(), health: () => ({ ok: true, message: `revision ${state.revision()}` }) }))
    // Before the reconcilers, so it stops after them: downloads end (partials kept) once nobody can ask.
    .add(component({ name: 'artifact-cache', stop: () => artifacts?.stop(), health: () => ({ ok: true, message: artifacts ? `${artifacts.usedBytes()} bytes cached` : 'none (a seed pulls from the Release\'s registry)' }) }))
    .add(reconcile)
    .add(component({ name: 'cluster-keys', stop: () => fetcher.stop(), health: () => ({ ok: true, message: `CAs of ${keys.uids().length} clusters held` }) }));
  if (!link) components.add(offlineWatch(state, reconcile));
  // It dials on start and reconnects by itself until stopped.
  if (link) components.add(component({ name: 'hub-link', start: () => link.start(), stop: () => link.stop(), health: () => ({ ok: link.linkState === 'connected', message: link.linkState }) }));
  await components.start();
  log.info({ agent: identity.agentId, hub: identity.hub, revision: state.revision(), offline: !link }, link ? 'agent started' : 'agent started offline: reconciling what bundles brought, without dialling the hub');
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

/**
 * Pins the bundle key a Welcome told, over a link that is already pinned to the hub's CA, when the agent
 * has none (it joined before the hub had one). A different key is not taken: a key change must be made
 * deliberately, so it is only logged.
 */
function pinBundleKey(dataDir: string, pem: string, log: Logger): void {
  const identity = loadIdentity(dataDir);
  if (identity.bundleKey === pem) return;
  if (identity.bundleKey) {
    log.warn({ identity: dataDir }, "the hub's bundle signing key differs from the one this agent pinned; bundles are still checked against the pinned key. If the hub's key was replaced on purpose, remove bundleKey from identity.json to pin the new one");
    return;
  }
  saveIdentity(dataDir, { ...identity, bundleKey: pem });
  log.info({}, "pinned the hub's bundle signing key from its Welcome: this agent can now import air-gapped bundles");
}

/** How often an offline agent looks for a bundle imported while it runs (by `outpost-agent bundle import`). */
const OFFLINE_POLL_MS = 2_000;

/**
 * An offline agent has no Sync to tell it what changed: a bundle is imported by another process, into the
 * same state.db. When the revision moves, every object runs again, as a resync would (a site holds few);
 * so too when the Clusters' CAs held change: a bundle at the revision held may bring only those.
 */
function offlineWatch(state: SqliteLocalState, reconcile: ReconcileController) {
  let timer: NodeJS.Timeout | undefined;
  const mark = (): string => `${state.revision()} ${state.clusterKeys().uids().join(',')}`;
  let seen = mark();
  return component({
    name: 'offline-watch',
    start: () => {
      timer = setInterval(() => {
        const now = mark();
        if (now === seen) return;
        seen = now;
        const live = state.list().map((object) => ({ key: keyOf(object), object, deleted: false }));
        const gone = state.tombstones().map((object) => ({ key: keyOf(object), object, deleted: true }));
        reconcile.changed([...live, ...gone]);
      }, OFFLINE_POLL_MS);
    },
    stop: () => clearInterval(timer),
    health: () => ({ ok: true, message: `offline at revision ${state.revision()}` }),
  });
}
