// Whether an Authorization header holds a valid admin API token, or an agent's credential (an agent's
// artifact download is a plain HTTPS request, long on a slow link), for the connection limits: a
// connection that shows one leaves the unauthenticated budget. The admin API and the blob routes still
// authenticate and authorise every request themselves; this only sorts connections.
import type { Token } from '@outpost/proto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { authenticateAgent } from './agent-identity.js';
import { authenticate } from './principal.js';

export function apiTokenCheck(store: Store, clock: Clock): (authorization: string) => boolean {
  const lookup = { token: (id: string) => store.get<Token>('Token', '', id), credential: (id: string) => store.credential(id) };
  return (authorization) => {
    try {
      authenticate(lookup, authorization, clock.now().getTime());
      return true;
    } catch {
      return 'agent' in authenticateAgent(store, authorization);
    }
  };
}
