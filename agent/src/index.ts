export { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
export { HubLink, type HubLinkOptions } from './link/hub-link.js';
export { Backoff } from './link/backoff.js';
export { join, loadIdentity, type Identity } from './identity.js';
export type { LocalState, AppliedChange, ChangeBatch, ObjectKey, StatusReport } from './state/local-state.js';
export { SqliteLocalState } from './state/sqlite-local-state.js';
export { ReconcileManager } from './reconcile/reconcile-manager.js';
export { ReceivedReconciler } from './reconcile/received-reconciler.js';
export type { Reconciler } from './reconcile/reconciler.js';
