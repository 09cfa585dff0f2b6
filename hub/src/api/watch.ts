// ?watch=true: newline-delimited JSON events, Kubernetes style, from the change log after
// resourceVersion and then live, until the client goes away or timeoutSeconds pass. A watch of agents
// also gets their presence. fieldSelector (metadata.name, metadata.namespace) and labelSelector narrow it (an object that stops matching is DELETED to the
// watcher, one that starts is ADDED), and allowWatchBookmarks=true brings BOOKMARK events carrying the
// hub's revision, so a quiet watcher can resume from a recent one instead of relisting.
import { keyOf, keyString, GROUP_VERSION, type Agent, type ResourceObject } from '@outpost/proto';
import type { Context } from 'hono';
import { authorize, type Principal } from '../auth/principal.js';
import { BadRequestError, HubError } from '../errors.js';
import type { PresenceFeed } from '../store/presence-table.js';
import type { Store, StoreChange } from '../store/store.js';
import { matchesFields, parseFieldSelector } from './field-selector.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import type { ResourcePath } from './resource-path.js';
import { shown } from './resource-service.js';

export interface WatchOptions {
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK. */
  bookmarkEveryMs: number;
}

function flag(c: Context, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new BadRequestError(`${name}=${v} is not true or false`);
}

export function watchResponse(c: Context, store: Store, presence: PresenceFeed, p: Principal, path: ResourcePath, opts: WatchOptions): Response {
  authorize(p, 'watch', path.kind, path.namespace);
  const selector = parseLabelSelector(c.req.query('labelSelector'));
  const fields = parseFieldSelector(c.req.query('fieldSelector'));
  const bookmarks = flag(c, 'allowWatchBookmarks');
  const timeoutParam = c.req.query('timeoutSeconds');
  const timeoutSeconds = timeoutParam === undefined ? undefined : Number(timeoutParam);
  if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)) throw new BadRequestError(`timeoutSeconds "${timeoutParam}" is not a whole number of seconds`);
  const rvParam = c.req.query('resourceVersion');
  const from = rvParam ? Number(rvParam) : store.revision();
  if (!Number.isInteger(from) || from < 0) throw new BadRequestError(`resourceVersion "${rvParam}" is not a revision number`);
  const backlog = store.changesSince(from);
  if (!backlog) throw new HubError(410, 'Gone', `resourceVersion ${from} is older than the compacted change log (${store.compactedRevision()}); list again and watch from its resourceVersion`);

  const inScope = (o: ResourceObject): boolean =>
    o.kind === path.kind.kind && (path.namespace === undefined || o.metadata.namespace === path.namespace) && (path.kind.kind !== 'Project' || p.role === 'admin' || o.metadata.name === p.project) && matchesFields(fields, o);
  const wanted = (o: ResourceObject): boolean => inScope(o) && matchesLabels(selector, o);
  // With a selector, which objects the watcher holds: those matching now, then as events move them in and
  // out. Seeded from the current state, which is the state at resourceVersion for every object the backlog
  // does not touch; one it does touch and that matches now may reach the watcher as MODIFIED where ADDED
  // was due, which informers take as an add.
  const held = selector ? new Set(store.list(path.kind.kind, { namespace: path.namespace, labelSelector: selector }).filter(inScope).map((o) => keyString(keyOf(o)))) : undefined;
  /** The event type this watcher gets for a change, or undefined for none. */
  const typeFor = (type: string, o: ResourceObject): string | undefined => {
    if (!inScope(o)) return undefined;
    if (!held) return type;
    const k = keyString(keyOf(o));
    const had = held.has(k);
    if (type !== 'DELETED' && matchesLabels(selector, o)) {
      held.add(k);
      return had ? 'MODIFIED' : 'ADDED';
    }
    held.delete(k);
    return had ? 'DELETED' : undefined;
  };
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
          const type = typeFor(ch.type, ch.object);
          // An Agent as it is shown on read: with its presence now (presence has no history of its own).
          if (type) controller.enqueue(event(type, shown(store, ch.object)));
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
      // Every event up to the hub's revision has been sent (listeners hear of a commit as it happens).
      const bookmark = (): void => controller.enqueue(event('BOOKMARK', { apiVersion: GROUP_VERSION, kind: path.kind.kind, metadata: { resourceVersion: String(Math.max(last, store.revision())) } }));
      const bookmarkTimer = bookmarks ? setInterval(bookmark, opts.bookmarkEveryMs) : undefined;
      const end = (): void => {
        unsubscribe();
        try {
          controller.close();
        } catch {
          // already closed by the client going away
        }
      };
      const timeout = timeoutSeconds !== undefined ? setTimeout(end, timeoutSeconds * 1000) : undefined;
      unsubscribe = () => {
        unsubscribeStore();
        unsubscribePresence();
        clearInterval(bookmarkTimer);
        clearTimeout(timeout);
      };
      c.req.raw.signal.addEventListener('abort', end);
    },
    cancel() {
      unsubscribe();
    },
  });
  return new Response(stream, { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
