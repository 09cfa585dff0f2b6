import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { ConflictError, AlreadyExistsError } from '../errors.js';
import { Store } from './store.js';

const ctx = { actor: 'test' };
const obj = (kind: string, name: string, spec: object, namespace?: string): ResourceObject => ({
  apiVersion: 'outpost.dev/v1alpha1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});

describe('Store', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-store-'));
    store = new Store(join(dir, 'hub.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every write the next revision and bumps generation on spec change only', () => {
    const a = store.create(obj('Site', 's1', { location: 'x' }), ctx);
    expect(a.metadata.resourceVersion).toBe('1');
    expect(a.metadata.generation).toBe(1);
    const b = store.replace({ ...a, metadata: { ...a.metadata, labels: { l: '1' } } }, ctx);
    expect(b.metadata.generation).toBe(1);
    const c = store.replace({ ...b, spec: { location: 'y' } }, ctx);
    expect(c.metadata.generation).toBe(2);
    expect(c.metadata.resourceVersion).toBe('3');
    const d = store.replaceStatus({ kind: 'Site', namespace: '', name: 's1' }, { agent: 'a' }, ctx);
    expect(d.metadata.generation).toBe(2);
    expect(store.revision()).toBe(4);
    expect(store.changesSince(0)?.map((ch) => ch.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED']);
  });

  it('refuses a stale resourceVersion and a duplicate create, writing nothing', () => {
    const a = store.create(obj('Site', 's1', {}), ctx);
    store.replace({ ...a, spec: { location: 'y' } }, ctx);
    expect(() => store.replace({ ...a, spec: { location: 'z' } }, ctx, { expectResourceVersion: '1' })).toThrow(ConflictError);
    expect(() => store.create(obj('Site', 's1', {}), ctx)).toThrow(AlreadyExistsError);
    expect(store.revision()).toBe(2);
    expect(store.get('Site', '', 's1')?.spec).toEqual({ location: 'y' });
  });

  it('keeps an object with finalizers until the last is removed', () => {
    const a = store.create({ ...obj('Site', 's1', {}), metadata: { name: 's1', finalizers: ['f'] } }, ctx);
    const marked = store.delete({ kind: 'Site', namespace: '', name: 's1' }, ctx);
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    store.replace({ ...a, metadata: { ...a.metadata, finalizers: [] } }, ctx);
    expect(store.get('Site', '', 's1')).toBeUndefined();
  });

  describe('views', () => {
    const site = (n: string) => `site/${n}`;
    beforeEach(() => {
      for (const s of ['a', 'b']) {
        store.create(obj('Site', s, {}), ctx);
        store.create(obj('Datacenter', `dc-${s}`, { site: s }), ctx);
        store.create(obj('Host', `h-${s}`, { site: s, address: '10.0.0.1' }), ctx);
      }
      store.create(obj('Project', 'p', {}), ctx);
      store.create(obj('SSHKey', 'k', { publicKey: 'ssh-ed25519 AAAA' }, 'p'), ctx);
      store.create(obj('SSHKey', 'unused', { publicKey: 'ssh-ed25519 BBBB' }, 'p'), ctx);
      store.create(obj('Cluster', 'c', { datacenter: 'dc-a', sshKeys: ['k'] }, 'p'), ctx);
      store.create(obj('Release', '1.33.0', { version: '1.33.0' }), ctx);
    });

    const names = (objs: ResourceObject[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();

    it('holds exactly what a site needs', () => {
      expect(names(store.syncView(site('a'), 0).upserts)).toEqual(['Cluster/c', 'Datacenter/dc-a', 'Host/h-a', 'Release/1.33.0', 'SSHKey/k', 'Site/a']);
      expect(names(store.syncView(site('b'), 0).upserts)).toEqual(['Datacenter/dc-b', 'Host/h-b', 'Release/1.33.0', 'Site/b']);
    });

    it('moves a cluster and its keys when the cluster changes datacenter', () => {
      const r = store.revision();
      const c = store.get('Cluster', 'p', 'c')!;
      store.replace({ ...c, spec: { datacenter: 'dc-b', sshKeys: ['k'] } }, ctx);
      const a = store.syncView(site('a'), r);
      expect(a.snapshot).toBe(false);
      expect(a.upserts).toEqual([]);
      expect(a.removals.map((k) => `${k.kind}/${k.name}`).sort()).toEqual(['Cluster/c', 'SSHKey/k']);
      expect(names(store.syncView(site('b'), r).upserts)).toEqual(['Cluster/c', 'SSHKey/k']);
    });

    it('moves every cluster of a datacenter when the datacenter changes site', () => {
      const r = store.revision();
      const dc = store.get('Datacenter', '', 'dc-a')!;
      store.replace({ ...dc, spec: { site: 'b' } }, ctx);
      expect(store.syncView(site('a'), r).removals.map((k) => k.name).sort()).toEqual(['c', 'dc-a', 'k']);
      expect(names(store.syncView(site('b'), r).upserts)).toEqual(['Cluster/c', 'Datacenter/dc-a', 'SSHKey/k']);
    });

    describe('agent finalizers', () => {
      const A = 'agent.outpost.dev/site.a';
      const B = 'agent.outpost.dev/site.b';
      const C = { kind: 'Cluster', namespace: 'p', name: 'c' };
      const finalizers = () => store.get('Cluster', 'p', 'c')?.metadata.finalizers;

      it("gives a Cluster its serving agent's finalizer at creation, and other kinds nothing", () => {
        expect(finalizers()).toEqual([A]);
        expect(store.get('Site', '', 'a')?.metadata).not.toHaveProperty('finalizers');
        expect(store.get('Host', '', 'h-a')?.metadata).not.toHaveProperty('finalizers');
        const own = store.create({ ...obj('Cluster', 'own', { datacenter: 'dc-b' }, 'p'), metadata: { name: 'own', namespace: 'p', finalizers: ['example.com/backup'] } }, ctx);
        expect(own.metadata.finalizers).toEqual(['example.com/backup', B]);
        // A Cluster in no view (its Datacenter is gone) has no agent to wait for.
        expect(store.create(obj('Cluster', 'nowhere', { datacenter: 'dc-gone' }, 'p'), ctx).metadata).not.toHaveProperty('finalizers');
      });

      it('keeps agent finalizers through a replace that leaves them out; a live Cluster keeps its serving one even when a patch removes it', () => {
        const c = store.get('Cluster', 'p', 'c')!;
        store.replace({ ...c, metadata: { ...c.metadata, finalizers: ['example.com/backup'] } }, ctx);
        expect(finalizers()).toEqual(['example.com/backup', A]);
        store.replace({ ...c, metadata: { ...c.metadata, finalizers: [] } }, ctx, { exactFinalizers: true });
        expect(finalizers()).toEqual([A]);
      });

      it('deletes a Terminating Cluster when its agent releases the last finalizer, in one write', () => {
        const marked = store.delete(C, ctx);
        expect(marked.metadata.deletionTimestamp).toBeTruthy();
        const r = store.revision();
        expect(store.removeFinalizer(C, 'agent.outpost.dev/site.b', ctx)?.metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
        expect(store.revision()).toBe(r);
        expect(store.removeFinalizer(C, A, { actor: 'agent:x' })).toBeUndefined();
        expect(store.revision()).toBe(r + 1);
        expect(store.get('Cluster', 'p', 'c')).toBeUndefined();
        expect(store.changesSince(r)?.map((ch) => [ch.type, ch.object.metadata.name])).toEqual([['DELETED', 'c']]);
        expect(store.syncView(site('a'), r).removals.map((k) => k.name).sort()).toEqual(['c', 'k']);
      });

      it('lets an operator finish the delete by patching the finalizers away, once it is Terminating', () => {
        store.delete(C, ctx);
        const c = store.get('Cluster', 'p', 'c')!;
        store.replace({ ...c, metadata: { ...c.metadata, finalizers: [] } }, ctx);
        expect(finalizers()).toEqual([A]);
        store.replace({ ...c, metadata: { ...c.metadata, finalizers: [] } }, ctx, { exactFinalizers: true });
        expect(store.get('Cluster', 'p', 'c')).toBeUndefined();
      });

      it("adds the new agent's finalizer when a Cluster moves, keeping the old one until that agent releases it", () => {
        const c = store.get('Cluster', 'p', 'c')!;
        store.replace({ ...c, spec: { datacenter: 'dc-b', sshKeys: ['k'] } }, ctx);
        expect(finalizers()).toEqual([A, B]);
        store.removeFinalizer(C, A, ctx);
        expect(finalizers()).toEqual([B]);
        expect(store.get('Cluster', 'p', 'c')?.metadata.deletionTimestamp).toBeUndefined();
      });

      it("gives the Clusters of a Datacenter that moves the new agent's finalizer, one write each", () => {
        const r = store.revision();
        const dc = store.get('Datacenter', '', 'dc-a')!;
        store.replace({ ...dc, spec: { site: 'b' } }, ctx);
        expect(finalizers()).toEqual([A, B]);
        expect(store.changesSince(r)?.map((ch) => `${ch.type} ${ch.object.kind}`)).toEqual(['MODIFIED Datacenter', 'MODIFIED Cluster']);
        expect(names(store.syncView(site('b'), r).upserts)).toEqual(['Cluster/c', 'Datacenter/dc-a', 'SSHKey/k']);
      });
    });

    it('does not send status writes to agents, and snapshots after compaction', () => {
      const r = store.revision();
      store.replaceStatus({ kind: 'Cluster', namespace: 'p', name: 'c' }, { phase: 'Running' }, ctx);
      expect(store.syncView(site('a'), r).upserts).toEqual([]);
      store.compact(store.revision());
      expect(store.syncView(site('a'), r).snapshot).toBe(true);
      expect(store.changesSince(r)).toBeUndefined();
    });

    it('tells listeners which views a committed write touched, and nothing for a failed one', () => {
      const heard: string[][] = [];
      store.subscribe((_c, views) => heard.push([...views].sort()));
      store.create(obj('Release', '1.34.0', {}), ctx);
      store.create(obj('Host', 'h2', { site: 'b' }), ctx);
      expect(() => store.create(obj('Host', 'h2', { site: 'b' }), ctx)).toThrow();
      expect(heard).toEqual([['*'], ['site/b']]);
    });
  });

  it('delivers changes to every listener in revision order, even when a listener writes', () => {
    const seen: number[] = [];
    store.subscribe((changes) => {
      for (const ch of changes) {
        if (ch.object.kind === 'Site' && ch.type === 'ADDED') store.replaceStatus({ kind: 'Site', namespace: '', name: ch.object.metadata.name ?? '' }, { agent: 'x' }, ctx);
      }
    });
    store.subscribe((changes) => seen.push(...changes.map((ch) => ch.revision)));
    store.create(obj('Site', 's1', {}), ctx);
    store.create(obj('Site', 's2', {}), ctx);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('stamps creation, deletion and audit times from its clock', () => {
    const clock = new ManualClock('2026-05-01T10:00:00.750Z');
    const timed = new Store(join(dir, 'timed.db'), { clock });
    try {
      const a = timed.create<ResourceObject>({ ...obj('Site', 's1', {}), metadata: { name: 's1', finalizers: ['f'] } }, ctx);
      expect(a.metadata.creationTimestamp).toBe('2026-05-01T10:00:00Z');
      clock.advance(90_000);
      expect(timed.delete({ kind: 'Site', namespace: '', name: 's1' }, ctx).metadata.deletionTimestamp).toBe('2026-05-01T10:01:30Z');
      expect(timed.auditCount()).toBe(2);
      // Rows stamped before 10:00:30 go: the create's (10:00:00), not the delete's (10:01:30).
      expect(timed.pruneAudit(new Date('2026-05-01T10:00:30Z'), 100, 100)).toBe(1);
      expect(timed.auditCount()).toBe(1);
    } finally {
      timed.close();
    }
  });
});
