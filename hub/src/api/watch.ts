// ?watch=true: newline-delimited JSON events, Kubernetes style, from the change log after
// resourceVersion and then live, until the client goes away.
import type { ResourceObject } from '@outpost/proto';
import type { Context } from 'hono';
import { authorize, type Principal } from '../auth/principal.js';
import { BadRequestError, HubError } from '../errors.js';
import type { Store, StoreChange } from '../store/store.js';
import type { ResourcePath } from './resource-path.js';

export function watchResponse(c: Context, store: Store, p: Principal, path: ResourcePath): Response {
  authorize(p, 'watch', path.kind, path.namespace);
  const rvParam = c.req.query('resourceVersion');
  const from = rvParam ? Number(rvParam) : store.revision();
  if (!Number.isInteger(from) || from < 0) throw new BadRequestError(`resourceVersion "${rvParam}" is not a revision number`);
  const backlog = store.changesSince(from);
  if (!backlog) throw new HubError(410, 'Gone', `resourceVersion ${from} is older than the compacted change log (${store.compactedRevision()}); list again and watch from its resourceVersion`);

  const wanted = (o: ResourceObject): boolean =>
    o.kind === path.kind.kind && (path.namespace === undefined || o.metadata.namespace === path.namespace) && (path.kind.kind !== 'Project' || p.role === 'admin' || o.metadata.name === p.project);
  const encoder = new TextEncoder();
  let unsubscribe = (): void => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let last = from;
      const send = (changes: readonly StoreChange[]): void => {
        for (const ch of changes) {
          if (ch.revision <= last) continue;
          last = ch.revision;
          if (wanted(ch.object)) controller.enqueue(encoder.encode(`${JSON.stringify({ type: ch.type, object: ch.object })}\n`));
        }
      };
      send(backlog);
      unsubscribe = store.subscribe((changes) => send(changes));
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
