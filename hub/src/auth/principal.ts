// Who is calling the admin API, and what they may do. Pure: the store is passed in for the lookup only.
import type { KindInfo, Token } from '@outpost/proto';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { secretMatches, splitToken } from './secrets.js';
import { tokenExpired } from './token-expiry.js';

export type Role = 'admin' | 'owner' | 'editor' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'owner', 'editor', 'viewer'];

export interface Principal {
  /** The API token's id; it names the actor in the audit log. */
  name: string;
  role: Role;
  /** Set for project roles: the one project the token may touch. */
  project?: string | undefined;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
const READS: ReadonlySet<Verb> = new Set(['get', 'list', 'watch']);

export interface TokenLookup {
  token(id: string): Token | undefined;
  credential(id: string): { type: string; hash: string } | undefined;
}

export function authenticate(lookup: TokenLookup, authorization: string | undefined, now = Date.now()): Principal {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) throw new UnauthorizedError();
  const parts = splitToken(m[1]!);
  const token = parts && lookup.token(parts.id);
  const cred = parts && lookup.credential(`token/${parts.id}`);
  if (!parts || !token || !cred || token.spec?.type !== 'api' || !secretMatches(parts.secret, cred.hash)) {
    throw new UnauthorizedError('API token not recognised: check the token, or ask an admin for a new one (outpost token create --api)');
  }
  if (tokenExpired(token, now)) {
    throw new UnauthorizedError(`API token ${parts.id} expired at ${token.spec.expires}; ask an admin for a new one`);
  }
  return { name: parts.id, role: (token.spec.role as Role) || 'viewer', project: token.spec.project || undefined };
}

/** Throws ForbiddenError unless `p` may `verb` objects of `kind` in `namespace` (named `name`). */
export function authorize(p: Principal, verb: Verb, kind: KindInfo, namespace: string | undefined, name?: string): void {
  if (p.role === 'admin') return;
  const read = READS.has(verb);
  const bound = p.project;
  const deny = (why: string): never => {
    throw new ForbiddenError(`token ${p.name} (role ${p.role}${bound ? ` in project ${bound}` : ''}) may not ${verb} ${kind.plural}${namespace ? ` in project ${namespace}` : ''}: ${why}`);
  };
  if (kind.kind === 'Datacenter' || kind.kind === 'Release') {
    if (read) return;
    deny('only admins change infrastructure');
  }
  if (kind.kind === 'Project') {
    if (read && (verb === 'list' || name === bound)) return;
    if ((verb === 'update' || verb === 'patch') && p.role === 'owner' && name === bound) return;
    deny('a project token sees only its own project, and only its owner changes it');
  }
  if (!kind.namespaced) deny('only admins see infrastructure');
  if (!namespace) deny(`name the project (-n ${bound ?? 'PROJECT'})`);
  if (namespace !== bound) deny(`the token is bound to project ${bound ?? '(none)'}`);
  if (!read && p.role === 'viewer') deny('viewers only read');
}
