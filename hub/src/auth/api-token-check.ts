// Whether an Authorization header holds a valid admin API token, for the connection limits: a
// connection that shows one leaves the unauthenticated budget. The admin API still authenticates and
// authorises every request itself; this only sorts connections.
import type { Token } from '@outpost/proto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { authenticate } from './principal.js';

export function apiTokenCheck(store: Store, clock: Clock): (authorization: string) => boolean {
  const lookup = { token: (id: string) => store.get<Token>('Token', '', id), credential: (id: string) => store.credential(id) };
  return (authorization) => {
    try {
      authenticate(lookup, authorization, clock.now().getTime());
      return true;
    } catch {
      return false;
    }
  };
}
