// ?watch=true: newline-delimited JSON events, Kubernetes style, from the change log after
// resourceVersion and then live, until the client goes away. A watch of agents also gets their presence.
import type { Agent, ResourceObject } from '@outpost/proto';
import type { Context } from 'hono';
import { authorize, type Principal } from '../auth/principal.js';
import { BadRequestError, HubError } from '../errors.js';
import type { PresenceFeed } from '../store/presence-table.js';
import type { Store, StoreChange } from '../store/store.js';
import type { ResourcePath } from './resource-path.js';
import { shown } from './resource-service.js';

export function watchResponse(c: Context, store: Store, presence: PresenceFeed, p: Principal, path: ResourcePath): Response {
  authorize(p, 'watch', path.kind, path.namespace);
  const rvParam = c.req.query('resourceVersion');
  const from = rvParam ? Number(rvParam) : store.revision();
  if (!Number.isInteger(from) || from < 0) throw new BadRequestError(`resourceVersion "${rvParam}" is not a revision number`);
  const backlog = store.changesSince(from);
  if (!backlog) throw new HubError(410, 'Gone', `resourceVersion ${from} is older than the compacted change log (${store.compactedRevision()}); list again and watch from its resourceVersion`);

  const wanted = (o: ResourceObject): boolean =>
    o.kind === path.kind.kind && (path.namespace === undefined || o.metadata.namespace === path.namespace) && (path.kind.kind !== 'Project' || p.role === 'admin' || o.metadata.name === p.project);
  const encoder = new TextEncoder();
  const event = (type: string, object: ResourceObject): Uint8Array => encoder.encode(`${JSON.stringify({ type, object })}\n`);
  let unsubscribe = (): void => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let last = from;
      const send = (changes: readonly StoreChange[]): void => {
        for (const ch of changes) {
          if (ch.revision <= last) continue;
          last = ch.revision;
          // An Agent as it is shown on read: with its presence now (presence has no history of its own).
          if (wanted(ch.object)) controller.enqueue(event(ch.type, shown(store, ch.object)));
        }
      };
      send(backlog);
      const unsubscribeStore = store.subscribe((changes) => send(changes));
      // A presence change is a MODIFIED event carrying the Agent with its presence merged and its
      // resourceVersion unchanged: presence takes no global revision (a fleet's reconnect would burn the
      // change log). Kubernetes clients accept an event whose resourceVersion does not move: an informer
      // replaces its cached object. One that resumes its watch from such an event's (older) version is
      // replayed the changes since, or told 410 Gone past the compacted log and lists again: never wrong.
      const unsubscribePresence = path.kind.kind === 'Agent' ? presence.subscribe((agents: readonly Agent[]) => {
        for (const a of agents) if (wanted(a)) controller.enqueue(event('MODIFIED', a));
      }) : () => undefined;
      unsubscribe = () => {
        unsubscribeStore();
        unsubscribePresence();
      };
      c.req.raw.signal.addEventListener('abort', () => {
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      });
    },
    cancel() {
      unsubscribe();
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
