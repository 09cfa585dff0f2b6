// The agent process: local state, hub link and reconcilers, started in order and stopped in reverse.
import pino, { type Logger } from 'pino';
import { loadIdentity, statePath } from './identity.js';
import { HubLink } from './link/hub-link.js';
import { ReceivedReconciler } from './reconcile/received-reconciler.js';
import { ReconcileManager } from './reconcile/reconcile-manager.js';
import type { Reconciler } from './reconcile/reconciler.js';
import { SqliteLocalState } from './state/sqlite-local-state.js';
import { AGENT_VERSION } from './version.js';

export interface AgentOptions {
  dataDir: string;
  reconcilers?: readonly Reconciler[];
  backoff?: { baseMs?: number; capMs?: number };
}

export interface RunningAgent {
  link: HubLink;
  state: SqliteLocalState;
  reconcile: ReconcileManager;
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions, log: Logger = pino({ level: 'info' }, pino.destination(2))): Promise<RunningAgent> {
  const identity = loadIdentity(opts.dataDir);
  const state = new SqliteLocalState(statePath(opts.dataDir));
  let link: HubLink | undefined;
  const reconcile = new ReconcileManager(state, opts.reconcilers ?? [new ReceivedReconciler()], () => link?.flushStatuses(), log);
  link = new HubLink({
    hubUrl: identity.hub,
    agentId: identity.agentId,
    credential: identity.credential,
    caCertPem: identity.caCertPem,
    version: AGENT_VERSION,
    state,
    onApplied: (changes) => void reconcile.enqueue(changes),
    backoff: opts.backoff,
    log,
  });
  await reconcile.resume();
  link.start();
  log.info({ agent: identity.agentId, hub: identity.hub, revision: state.revision() }, 'agent started');
  let stopped = false;
  return {
    link,
    state,
    reconcile,
    async stop() {
      if (stopped) return;
      stopped = true;
      link?.stop();
      await reconcile.idle();
      state.close();
    },
  };
}
