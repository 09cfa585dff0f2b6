import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListExpiredError } from './list-page.js';
import { Store } from './store.js';

const ctx = { actor: 'test' };
const site = (name: string, labels?: Record<string, string>): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name, ...(labels ? { labels } : {}) }, spec: { location: 'x' } });
const release = (ns: string, name: string): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Thing', metadata: { name, namespace: ns }, spec: {} });
const names = (items: readonly ResourceObject[]): string[] => items.map((o) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name ?? ''));
const gold = [{ key: 'tier', operator: 'in' as const, values: ['gold'] }];

describe('Store.listPage', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-page-'));
    store = new Store(join(dir, 'hub.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages in key order with limit, says where the next page starts and how many follow', () => {
    for (const n of ['e', 'a', 'd', 'b', 'c']) store.create(site(n), ctx);
    const one = store.listPage('Site', { limit: 2 });
    expect({ items: names(one.items), next: one.next, remaining: one.remaining, revision: one.revision }).toEqual({ items: ['a', 'b'], next: { namespace: '', name: 'b' }, remaining: 3, revision: 5 });
    const two = store.listPage('Site', { limit: 2, after: one.next });
    expect([names(two.items), two.remaining]).toEqual([['c', 'd'], 1]);
    const three = store.listPage('Site', { limit: 2, after: two.next });
    expect([names(three.items), three.next, three.remaining]).toEqual([['e'], undefined, undefined]);
    // Exactly `limit` left: the page says no more follow (it read limit+1 rows to know).
    expect(store.listPage('Site', { limit: 1, after: { namespace: '', name: 'd' } }).next).toBeUndefined();
    expect(names(store.listPage('Site', {}).items)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('orders by project, then name, across projects, and keeps to one project when asked', () => {
    for (const [ns, n] of [['p2', 'a'], ['p1', 'z'], ['p1', 'b'], ['p3', 'a']] as const) store.create(release(ns, n), ctx);
    const one = store.listPage('Thing', { limit: 2 });
    expect(names(one.items)).toEqual(['p1/b', 'p1/z']);
    expect(names(store.listPage('Thing', { limit: 2, after: one.next }).items)).toEqual(['p2/a', 'p3/a']);
    expect(names(store.listPage('Thing', { namespace: 'p1', limit: 1, after: { namespace: 'p1', name: 'b' } }).items)).toEqual(['p1/z']);
  });

  it('counts matching objects toward limit: a selector is in the SQL, not applied to a page after', () => {
    for (let i = 0; i < 10; i++) store.create(site(`s${i}`, i % 3 === 0 ? { tier: 'gold' } : { tier: 'silver' }), ctx);
    const one = store.listPage('Site', { limit: 2, labelSelector: gold });
    expect(names(one.items)).toEqual(['s0', 's3']);
    expect(one.remaining).toBeUndefined(); // as Kubernetes: no count under a selector
    const two = store.listPage('Site', { limit: 2, labelSelector: gold, after: one.next });
    expect([names(two.items), two.next]).toEqual([['s6', 's9'], undefined]);
    expect(names(store.listPage('Site', { fields: [{ field: 'name', value: 's3', negated: true }], limit: 2 }).items)).toEqual(['s0', 's1']);
  });

  it('reads later pages as of the first page\'s revision: changed, deleted and created objects as they were', () => {
    for (const n of ['a', 'b', 'c', 'd']) store.create(site(n, { tier: 'gold' }), ctx);
    const one = store.listPage('Site', { limit: 2, labelSelector: gold });
    const at = one.revision;
    const c = store.get('Site', '', 'c')!;
    store.replace({ ...c, metadata: { ...c.metadata, labels: { tier: 'silver' } }, spec: { location: 'moved' } }, ctx);
    store.delete({ kind: 'Site', namespace: '', name: 'd' }, ctx);
    store.create(site('ca', { tier: 'gold' }), ctx);
    store.create(site('a0', { tier: 'gold' }), ctx); // before the cursor: never on a later page
    const two = store.listPage('Site', { limit: 2, labelSelector: gold, after: one.next, atRevision: at });
    expect(names(two.items)).toEqual(['c', 'd']);
    expect(two.items[0]!.spec).toEqual({ location: 'x' });
    expect(two.items[0]!.metadata.resourceVersion).toBe('3');
    expect(two.revision).toBe(at);
    // Unpaged at the same revision: the whole list as it was.
    expect(names(store.listPage('Site', { atRevision: at }).items)).toEqual(['a', 'b', 'c', 'd']);
    expect(store.listPage('Site', { limit: 1, atRevision: at }).remaining).toBe(3);
    // Now: the list as it is.
    expect(names(store.listPage('Site', { labelSelector: gold }).items)).toEqual(['a', 'a0', 'b', 'ca']);
  });

  it('refuses, 410, a revision the change log no longer reaches', () => {
    for (const n of ['a', 'b', 'c']) store.create(site(n), ctx);
    const one = store.listPage('Site', { limit: 1 });
    store.create(site('d'), ctx);
    store.compact(store.revision());
    expect(() => store.listPage('Site', { limit: 1, after: one.next, atRevision: one.revision })).toThrow(ListExpiredError);
    expect(() => store.listPage('Site', { atRevision: one.revision })).toThrow(/the change log is compacted up to 4; list again/);
  });

  it('refuses, 410, a page whose object changed after the revision and was last written before the compaction', () => {
    for (const n of ['a', 'b']) store.create(site(n), ctx);
    store.compact(2);
    const one = store.listPage('Site', { limit: 1 });
    expect(one.revision).toBe(2);
    // An object the page does not reach may change freely; one it does must be readable as it was.
    store.replace({ ...store.get('Site', '', 'a')!, spec: { location: 'y' } }, ctx);
    expect(names(store.listPage('Site', { after: one.next, atRevision: 2 }).items)).toEqual(['b']);
    store.replace({ ...store.get('Site', '', 'b')!, spec: { location: 'y' } }, ctx);
    let err: unknown;
    try {
      store.listPage('Site', { after: one.next, atRevision: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ListExpiredError);
    expect((err as ListExpiredError).status).toBe(410);
    expect((err as Error).message).toMatch(/Site "b" changed since, and its state then is compacted/);
  });

  it('refuses a revision the store has not reached', () => {
    store.create(site('a'), ctx);
    expect(() => store.listPage('Site', { atRevision: 5 })).toThrow('resourceVersion 5 is newer than the hub\'s revision 1');
  });
});
