// ?watch=true: newline-delimited JSON events, Kubernetes style, from the change log after
// resourceVersion and then live, until the client goes away or timeoutSeconds pass. A watch of agents
// also gets their presence. fieldSelector (metadata.name, metadata.namespace) and labelSelector narrow it (an object that stops matching is DELETED to the
// watcher, one that starts is ADDED), and allowWatchBookmarks=true brings BOOKMARK events carrying the
// hub's revision, so a quiet watcher can resume from a recent one instead of relisting.
//
// A watch holds the hub's memory and a credential's reach, so it is bounded on both: events wait in a
// queue of at most maxBufferedBytes for a slow reader, past which the watcher is dropped with an ERROR
// event (410 Expired: list again); the caller's token is checked again when tokens change and every
// recheckEveryMs, and the watch ends (ERROR 401) when it is deleted or expires; and a watch without
// timeoutSeconds ends after a random 30 to 60 minutes, as kube-apiserver's do, so watches spread their
// reconnects and none outlives what it was authorized for by long.
import { keyOf, keyString, GROUP_VERSION, statusBody, type Agent, type ResourceObject, type StatusReason } from '@outpost/proto';
import type { Context } from 'hono';
import { authorize, type Principal } from '../auth/principal.js';
import { BadRequestError, HubError } from '../errors.js';
import { EventStream } from './event-stream.js';
import type { PresenceFeed } from '../store/presence-table.js';
import type { Store, StoreChange } from '../store/store.js';
import { matchesFields, parseFieldSelector } from './field-selector.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import type { ResourcePath } from './resource-path.js';
import { shown } from './resource-service.js';

export interface WatchOptions {
  /** How often a watch with allowWatchBookmarks=true gets a BOOKMARK. */
  bookmarkEveryMs: number;
  /** Throws (a HubError) when the caller's credential no longer holds: deleted, expired. */
  recheck(): void;
  /** What an event carries in place of the object (a Table, for kubectl get -w); default the object. */
  present?: ((type: string, object: ResourceObject) => unknown) | undefined;
  /** Bytes of events that may wait for a reader before it is dropped. Default 8 MiB. */
  maxBufferedBytes?: number | undefined;
  /** How often the caller's token is checked again besides when a Token changes. Default 10 s. */
  recheckEveryMs?: number | undefined;
  /** A watch without timeoutSeconds ends after between this and twice this. Default 30 min (kube-apiserver's --min-request-timeout). */
  minTimeoutMs?: number | undefined;
  /** How long a watch told to end may take to be read to its end before its connection is cut. Default 60 s. */
  drainGraceMs?: number | undefined;
}

export const WATCH_DEFAULTS = { maxBufferedBytes: 8 * 1024 * 1024, recheckEveryMs: 10_000, minTimeoutMs: 30 * 60_000, drainGraceMs: 60_000 };

/** setTimeout's longest delay; a longer timeoutSeconds would fire at once. */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function flag(c: Context, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new BadRequestError(`${name}=${v} is not true or false`);
}

function timeoutMs(param: string | undefined, minTimeoutMs: number): number {
  const seconds = param === undefined ? 0 : Number(param);
  if (!Number.isInteger(seconds) || seconds < 0) throw new BadRequestError(`timeoutSeconds "${param}" is not a whole number of seconds`);
  if (seconds > MAX_TIMEOUT_SECONDS) throw new BadRequestError(`timeoutSeconds ${seconds} is longer than a watch may last (${MAX_TIMEOUT_SECONDS}); leave it out for the hub's 30 to 60 minutes`);
  // 0 or none: the server's, random so that watches opened together do not all reconnect together.
  return seconds > 0 ? seconds * 1000 : minTimeoutMs * (1 + Math.random());
}

/** Change-log rows a watch reads at a time while it catches up. */
const BACKLOG_PAGE = 64;

const encoder = new TextEncoder();
const line = (type: string, object: object): Uint8Array => encoder.encode(`${JSON.stringify({ type, object })}\n`);

/**
 * An ERROR event as kube-apiserver sends it: a Status. With 410 Expired (what client-go's reflector and
 * kubectl take as "list again", reason Expired or Gone) it carries the hub's revision in
 * metadata.resourceVersion, so a client sees how far it must catch up.
 */
function errorEvent(code: number, reason: StatusReason, message: string, resourceVersion?: number): Uint8Array {
  const status = statusBody(code, reason, message);
  return line('ERROR', resourceVersion === undefined ? status : { ...status, metadata: { resourceVersion: String(resourceVersion) } });
}

export function watchResponse(c: Context, store: Store, presence: PresenceFeed, p: Principal, path: ResourcePath, opts: WatchOptions): Response {
  authorize(p, 'watch', path.kind, path.namespace);
  const limits = {
    maxBufferedBytes: opts.maxBufferedBytes ?? WATCH_DEFAULTS.maxBufferedBytes,
    recheckEveryMs: opts.recheckEveryMs ?? WATCH_DEFAULTS.recheckEveryMs,
    drainGraceMs: opts.drainGraceMs ?? WATCH_DEFAULTS.drainGraceMs,
  };
  // An object's event as the caller asked to see it (a Table row for kubectl get -w); ERRORs stay Status.
  const objectLine = (type: string, object: ResourceObject): Uint8Array => line(type, opts.present ? (opts.present(type, object) as object) : object);
  const selector = parseLabelSelector(c.req.query('labelSelector'));
  const fields = parseFieldSelector(c.req.query('fieldSelector'));
  const bookmarks = flag(c, 'allowWatchBookmarks');
  const lifetimeMs = timeoutMs(c.req.query('timeoutSeconds'), opts.minTimeoutMs ?? WATCH_DEFAULTS.minTimeoutMs);
  const rvParam = c.req.query('resourceVersion');
  const from = rvParam ? Number(rvParam) : store.revision();
  if (!Number.isInteger(from) || from < 0) throw new BadRequestError(`resourceVersion "${rvParam}" is not a revision number`);
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  const tooOld = (rv: number): Uint8Array => {
    const revision = store.revision();
    return errorEvent(410, 'Expired', `too old resource version: ${rv} is older than the compacted change log (${store.compactedRevision()}); list again (the hub is at ${revision}) and watch from the list's resourceVersion`, revision);
  };
  // As kube-apiserver's watch cache answers: 200 and one ERROR event, not an HTTP error, once the
  // request itself was good.
  if (!store.changesSince(from, 0)) return new Response(new Blob([tooOld(from) as Uint8Array<ArrayBuffer>]).stream(), { headers });
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
  let last = from;
  const stops: Array<() => void> = [];
  const stop = (): void => {
    for (const s of stops.splice(0)) s();
  };
  /**
   * Until the watcher has read the change log up to its head, events come from the log a page at a time
   * as the reader asks (a watch from long ago holds one page, not the whole log); live events are in the
   * log too and are not queued meanwhile, and presence changes wait, the latest per agent.
   */
  let catchingUp = true;
  const presenceLater = new Map<string, Agent>();
  const refill = (): void => {
    while (catchingUp && out.idle) {
      const page = store.changesSince(last, BACKLOG_PAGE);
      if (!page) {
        stop();
        return out.endWith(tooOld(last));
      }
      if (page.length < BACKLOG_PAGE) catchingUp = false;
      changes(page, false);
    }
    if (catchingUp) return;
    for (const a of presenceLater.values()) send(objectLine('MODIFIED', a));
    presenceLater.clear();
  };
  const out = new EventStream({ maxBufferedBytes: limits.maxBufferedBytes, drainGraceMs: limits.drainGraceMs, onCancel: stop, refill });
  /** Ends the watch with an ERROR event, dropping what the reader had not taken yet. */
  const fail = (code: number, reason: StatusReason, message: string, revision?: number): void => {
    stop();
    out.endWith(errorEvent(code, reason, message, revision));
  };
  const send = (chunk: Uint8Array): void => {
    if (out.push(chunk)) return;
    // Kubernetes drops a watcher that does not keep up, too; the reader lists again and resumes.
    const revision = store.revision();
    fail(410, 'Expired', `this watch fell more than ${limits.maxBufferedBytes} bytes of events behind its reader and was dropped; list again (the hub is at ${revision}) and watch from the list's resourceVersion`, revision);
  };
  /** False, having ended the watch, once the caller's credential no longer holds. */
  const stillAuthorized = (): boolean => {
    try {
      opts.recheck();
      return true;
    } catch (err) {
      const e = err instanceof HubError ? err : new HubError(401, 'Unauthorized', 'the credential could not be checked again');
      fail(e.status, e.reason, `watch ended: ${e.message}`);
      return false;
    }
  };
  const changes = (list: readonly StoreChange[], live: boolean): void => {
    for (const ch of list) {
      if (ch.revision <= last) continue;
      last = ch.revision;
      const type = typeFor(ch.type, ch.object);
      if (!type) continue;
      // An Agent as it is shown on read: with its presence now (presence has no history of its own).
      if (live) send(objectLine(type, shown(store, ch.object)));
      else out.pushLazy(() => objectLine(type, shown(store, ch.object)));
    }
  };
  stops.push(store.subscribe((list) => {
    if (list.some((ch) => ch.object.kind === 'Token') && !stillAuthorized()) return;
    if (!catchingUp) changes(list, true);
  }));
  // A presence change is a MODIFIED event carrying the Agent with its presence merged and its
  // resourceVersion unchanged: presence takes no global revision (a fleet's reconnect would burn the
  // change log). Kubernetes clients accept an event whose resourceVersion does not move: an informer
  // replaces its cached object. One that resumes its watch from such an event's (older) version is
  // replayed the changes since, or told 410 Expired past the compacted log and lists again: never wrong.
  if (path.kind.kind === 'Agent') {
    stops.push(presence.subscribe((agents: readonly Agent[]) => {
      for (const a of agents) {
        if (!wanted(a)) continue;
        if (catchingUp) presenceLater.set(a.metadata.name ?? '', a);
        else send(objectLine('MODIFIED', a));
      }
    }));
  }
  // Every event up to the hub's revision has been sent (listeners hear of a commit as it happens).
  const bookmark = (): void => void (catchingUp || send(objectLine('BOOKMARK', { apiVersion: GROUP_VERSION, kind: path.kind.kind, metadata: { resourceVersion: String(Math.max(last, store.revision())) } })));
  const timers = [
    ...(bookmarks ? [setInterval(bookmark, opts.bookmarkEveryMs)] : []),
    setInterval(stillAuthorized, limits.recheckEveryMs),
  ];
  const timeout = setTimeout(() => {
    stop();
    out.end();
  }, lifetimeMs);
  stops.push(() => {
    for (const t of timers) clearInterval(t);
    clearTimeout(timeout);
  });
  c.req.raw.signal.addEventListener('abort', () => {
    stop();
    out.abort();
  });
  return new Response(out.stream, { headers });
}
