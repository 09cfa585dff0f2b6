// The agent process: components with one lifecycle, started in order and stopped in reverse (local state,
// then the reconcilers that read it, then the hub link that feeds them), errors gathered.
import { agentFinalizer, component, ComponentManager, keyOf, type NamedHealth } from '@outpost/proto';
import pino, { type Logger } from 'pino';
import { loadIdentity, saveIdentity, statePath } from './identity.js';
import { HubLink } from './link/hub-link.js';
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
  /** Reconcile what local state holds without dialling the hub (a site fed by bundles). */
  offline?: boolean;
}

export interface RunningAgent {
  /** Absent when offline. */
  link: HubLink | undefined;
  state: SqliteLocalState;
  reconcile: ReconcileController;
  health(): NamedHealth[];
  /** Idempotent; stops the link, then the reconcilers (in-flight work aborted), then closes the state. */
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions, log: Logger = pino({ level: 'info' }, pino.destination(2))): Promise<RunningAgent> {
  const identity = loadIdentity(opts.dataDir);
  const state = new SqliteLocalState(statePath(opts.dataDir));
  // Each calls the other only once started, so neither needs the other to exist first.
  const link = opts.offline ? undefined : new HubLink({
    hubUrl: identity.hub,
    agentId: identity.agentId,
    credential: identity.credential,
    caCertPem: identity.caCertPem,
    version: AGENT_VERSION,
    state,
    onApplied: (changes) => reconcile.changed(changes),
    onBundleKey: (pem) => pinBundleKey(opts.dataDir, pem, log),
    backoff: opts.backoff,
    log,
  });
  const reconcile = new ReconcileController({
    state,
    reconcilers: opts.reconcilers ?? [new ReceivedReconciler()],
    journal: state.flowJournal(),
    finalizer: agentFinalizer(identity.view),
    onStatus: () => link?.flushStatuses(),
    log,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
  });
  const components = new ComponentManager()
    .add(component({ name: 'local-state', stop: () => state.close(), health: () => ({ ok: true, message: `revision ${state.revision()}` }) }))
    .add(reconcile);
  if (!link) components.add(offlineWatch(state, reconcile));
  // It dials on start and reconnects by itself until stopped.
  if (link) components.add(component({ name: 'hub-link', start: () => link.start(), stop: () => link.stop(), health: () => ({ ok: link.linkState === 'connected', message: link.linkState }) }));
  await components.start();
  log.info({ agent: identity.agentId, hub: identity.hub, revision: state.revision(), offline: !link }, link ? 'agent started' : 'agent started offline: reconciling what bundles brought, without dialling the hub');
  return { link, state, reconcile, health: () => components.health(), stop: () => components.stop() };
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
 * same state.db. When the revision moves, every object runs again, as a resync would (a site holds few).
 */
function offlineWatch(state: SqliteLocalState, reconcile: ReconcileController) {
  let timer: NodeJS.Timeout | undefined;
  let seen = state.revision();
  return component({
    name: 'offline-watch',
    start: () => {
      timer = setInterval(() => {
        const now = state.revision();
        if (now === seen) return;
        seen = now;
        const live = state.list().map((object) => ({ key: keyOf(object), object, deleted: false }));
        const gone = state.tombstones().map((object) => ({ key: keyOf(object), object, deleted: true }));
        reconcile.changed([...live, ...gone]);
      }, OFFLINE_POLL_MS);
    },
    stop: () => clearInterval(timer),
    health: () => ({ ok: true, message: `offline at revision ${seen}` }),
  });
}
