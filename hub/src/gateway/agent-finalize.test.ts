// Status{finalized} through the agent status path, against a real Store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceObject, Status } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { applyAgentStatus } from './agent-status.js';

const ctx = { actor: 'test' };
const obj = (kind: string, name: string, spec: object, namespace?: string): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec });
const C = { kind: 'Cluster', namespace: 'p', name: 'c' };

describe('an agent releasing its finalizer', () => {
  let dir: string;
  let store: Store;
  let uid: string;
  const finalized = (over: Partial<Status['ref']> = {}): Status => ({ seq: 1, ref: { ...C, uid, ...over }, finalized: true });
  const finalizers = () => store.get('Cluster', 'p', 'c')?.metadata.finalizers;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-finalize-'));
    store = new Store(join(dir, 'hub.db'));
    for (const s of ['a', 'b']) {
      store.create(obj('Site', s, {}), ctx);
      store.create(obj('Datacenter', `dc-${s}`, { site: s }), ctx);
    }
    store.create(obj('Project', 'p', {}), ctx);
    uid = store.create(obj('Cluster', 'c', { datacenter: 'dc-a' }, 'p'), ctx).metadata.uid ?? '';
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes a Terminating object when its agent has finalized it', () => {
    store.delete(C, ctx);
    expect(applyAgentStatus(store, 'agent-a', 'site/a', finalized())).toBeUndefined();
    expect(store.get('Cluster', 'p', 'c')).toBeUndefined();
    // Sent again after a reconnect: nothing left to do, nothing refused.
    expect(applyAgentStatus(store, 'agent-a', 'site/a', finalized())).toBeUndefined();
  });

  it('refuses the release of an object still in the view and not being deleted', () => {
    const r = store.revision();
    expect(applyAgentStatus(store, 'agent-a', 'site/a', finalized())).toEqual({
      code: 'INVALID_STATUS',
      message: "Cluster p/c is in this agent's view and not being deleted; its finalizer agent.outpost.dev/site.a stays",
    });
    expect(store.revision()).toBe(r);
  });

  it("releases only the agent's own finalizer, also once the object has left its view", () => {
    const c = store.get('Cluster', 'p', 'c')!;
    store.replace({ ...c, spec: { datacenter: 'dc-b' } }, ctx);
    expect(finalizers()).toEqual(['agent.outpost.dev/site.a', 'agent.outpost.dev/site.b']);
    const r = store.revision();
    // Site b's agent serves it now: its release is refused, and it could not touch a's finalizer anyway.
    expect(applyAgentStatus(store, 'agent-b', 'site/b', finalized())?.message).toMatch(/is in this agent's view and not being deleted/);
    expect(store.revision()).toBe(r);
    expect(applyAgentStatus(store, 'agent-a', 'site/a', finalized())).toBeUndefined();
    expect(finalizers()).toEqual(['agent.outpost.dev/site.b']);
    expect(store.get('Cluster', 'p', 'c')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('ignores the release of an earlier object of the same name', () => {
    store.delete(C, ctx);
    const r = store.revision();
    expect(applyAgentStatus(store, 'agent-a', 'site/a', finalized({ uid: 'an-older-uid' }))).toBeUndefined();
    expect(store.revision()).toBe(r);
    expect(finalizers()).toEqual(['agent.outpost.dev/site.a']);
  });
});
