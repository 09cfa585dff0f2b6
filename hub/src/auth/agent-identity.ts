// Agents: a bootstrap token is swapped once for the agent's own credential; the credential then opens
// the agent's WebSocket and shows it its view, and nothing else.
import type { Agent, Token } from '@outpost/proto';
import { systemClock, timestamp, type Clock } from '../clock.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import { seedView, siteView } from '../store/views.js';
import { tokenExpired } from './token-expiry.js';
import { BOOTSTRAP_TOKEN_RE, hashSecret, newAgentSecret, secretMatches, splitToken } from './secrets.js';

export type JoinErrorCode = 'TOKEN_MALFORMED' | 'TOKEN_UNKNOWN' | 'TOKEN_EXPIRED' | 'TOKEN_USED' | 'TARGET_GONE';

export class JoinError extends HubError {
  override readonly name = 'JoinError';
  constructor(readonly code: JoinErrorCode, message: string) {
    super(code === 'TARGET_GONE' ? 409 : 401, code === 'TARGET_GONE' ? 'Conflict' : 'Unauthorized', message);
  }
}

export interface JoinResult {
  agentId: string;
  /** "<agentId>.<secret>": the agent's credential. Shown once. */
  credential: string;
  view: string;
  role: 'seed' | 'site';
  target: string;
}

export function viewOf(agent: Agent): string {
  return agent.spec?.role === 'seed' ? seedView(agent.spec.seed ?? '') : siteView(agent.spec?.site ?? '');
}

export function redeemBootstrapToken(store: Store, tokenString: string, version: string, clock: Clock = systemClock): JoinResult {
  const m = BOOTSTRAP_TOKEN_RE.exec(tokenString.trim());
  if (!m) throw new JoinError('TOKEN_MALFORMED', 'the bootstrap token is not of the form abcdef.0123456789abcdef; copy it again from `outpost token create`');
  const id = m[1]!;
  return store.transaction(() => {
    const token = store.get<Token>('Token', '', id);
    const cred = store.credential(`token/${id}`);
    if (!token || !cred || token.spec?.type !== 'bootstrap' || !secretMatches(m[2]!, cred.hash)) {
      throw new JoinError('TOKEN_UNKNOWN', `bootstrap token ${id} is not known to this hub (wrong hub, mistyped, or deleted); create one with \`outpost token create --site NAME\``);
    }
    if (token.status?.used) {
      throw new JoinError('TOKEN_USED', `bootstrap token ${id} was already used at ${token.status.usedAt} by agent ${token.status.agent}; tokens are single use: create a new one with \`outpost token create\``);
    }
    if (tokenExpired(token, clock.now().getTime())) {
      throw new JoinError('TOKEN_EXPIRED', `bootstrap token ${id} expired at ${token.spec.expires}; create a new one with \`outpost token create\``);
    }
    const role = token.spec.seed ? 'seed' : 'site';
    const target = (token.spec.seed || token.spec.site) ?? '';
    const targetKind = role === 'seed' ? 'Seed' : 'Site';
    if (!store.get(targetKind, '', target)) throw new JoinError('TARGET_GONE', `${targetKind} "${target}" this token was made for no longer exists`);

    const actor = { actor: `bootstrap-token:${id}` };
    const joined = createAgent(store, role, target, id, version, actor);
    store.replaceStatus({ kind: 'Token', namespace: '', name: id }, { used: true, usedAt: timestamp(clock), agent: joined.agentId }, actor);
    return joined;
  });
}

/**
 * Makes the Agent of a Seed or Site and its credential, inside the caller's transaction: older agents of
 * the same target are revoked (one agent serves it; the newest wins), its presence starts disconnected, and
 * the target's status names it. For a join (its token's id as `suffix`) and an enrolling bundle.
 */
export function createAgent(store: Store, role: 'seed' | 'site', target: string, suffix: string, version: string, actor: { actor: string }): JoinResult {
  const targetKind = role === 'seed' ? 'Seed' : 'Site';
  const agentId = `${role}-${target}-${suffix}`.slice(0, 253);
  for (const other of store.agentsServing(role, target)) {
    if (!other.spec?.revoked) store.replace({ ...other, spec: { ...other.spec, revoked: true } }, actor);
  }
  const agent: Agent = {
    apiVersion: 'outpost.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name: agentId, labels: { 'outpost.dev/role': role, [`outpost.dev/${role}`]: target } },
    spec: role === 'seed' ? { role, seed: target } : { role, site: target },
  };
  store.create(agent, actor);
  // Its presence (not connected, nothing acked, the version that joined) beside the object, not in it.
  store.presence.write([[agentId, { connected: false, version, ackedRevision: 0 }]]);
  const secret = newAgentSecret();
  store.putCredential(`agent/${agentId}`, 'agent', hashSecret(secret));
  const targetObj = store.mustGet(targetKind, '', target);
  store.replaceStatus({ kind: targetKind, namespace: '', name: target }, { ...(targetObj.status ?? {}), agent: agentId }, actor);
  return { agentId, credential: `${agentId}.${secret}`, view: viewOf(agent), role, target };
}

/** The agent a WebSocket upgrade's "Authorization: Bearer <credential>" belongs to, or a reason it is refused. */
export function authenticateAgent(store: Store, authorization: string | undefined): { agent: Agent } | { refused: string } {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  const parts = m ? splitToken(m[1]!) : undefined;
  if (!parts) return { refused: 'no agent credential; run `outpost-agent join` first' };
  const agent = store.get<Agent>('Agent', '', parts.id);
  const cred = store.credential(`agent/${parts.id}`);
  if (!agent || !cred || !secretMatches(parts.secret, cred.hash)) return { refused: `agent credential for ${parts.id} not recognised; join again with a new bootstrap token` };
  if (agent.spec?.revoked) return { refused: `agent ${parts.id} is revoked (a newer agent joined for its ${agent.spec.role}, or an admin revoked it); join again with a new bootstrap token` };
  return { agent };
}
