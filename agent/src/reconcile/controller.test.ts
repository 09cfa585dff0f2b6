import type { ClusterKeys, ResourceObject } from '@outpost/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryFlowJournal } from '../engine/index.js';
import { isFinalizedReport, keyOf, keyString, type AppliedChange, type ObjectKey, type OutboxReport, type StatusReport } from '../state/local-state.js';
import { MemoryLocalState } from '../state/memory-local-state.js';
import { ReconcileController } from './controller.js';
import type { ReconcileContext, Reconciler } from './reconciler.js';

const FINALIZER = 'agent.outpost.dev/site.s1';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

function cluster(name: string, spec: object = {}, meta: object = {}): ResourceObject {
  return { apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', generation: 1, uid: `uid-${name}`, finalizers: [FINALIZER], ...meta }, spec };
}

/** The simulated agents' real local state, recording every report the controller queues. */
class RecordingState extends MemoryLocalState {
  readonly statuses: OutboxReport[] = [];
  readonly reconciled = new Map<string, number>();
  private batches = 0;

  put(obj: ResourceObject): AppliedChange {
    return this.apply({ snapshot: false, revision: ++this.batches, changes: [{ key: keyOf(obj), object: obj }] })[0]!;
  }
  remove(key: ObjectKey): AppliedChange {
    return this.apply({ snapshot: false, revision: ++this.batches, changes: [{ key }] })[0]!;
  }
  override enqueueStatus(report: OutboxReport): number {
    this.statuses.push(report);
    return super.enqueueStatus(report);
  }
  override markReconciled(key: ObjectKey, generation: number): void {
    this.reconciled.set(keyString(key), generation);
    super.markReconciled(key, generation);
  }
  conditionsOf(name: string): Array<string | undefined> {
    return this.statuses.filter((s) => s.ref.name === name && !isFinalizedReport(s)).map((s) => (s as StatusReport).cluster?.conditions?.map((c) => `${c.type}=${c.status}`).join(','));
  }
  released(): Array<[string | null | undefined, string | null | undefined]> {
    return this.statuses.filter(isFinalizedReport).map((s) => [s.ref.name, s.ref.uid]);
  }
}

/** A reconciler that records what it is asked, reports a condition, and waits where a test holds it. */
class Recorder implements Reconciler {
  readonly calls: string[] = [];
  readonly holds = new Map<string, PromiseWithResolvers<void>>();
  constructor(readonly name: string, private readonly mode?: string) {}
  readonly kind = 'Cluster';
  owns(obj: ResourceObject): boolean {
    return !this.mode || (obj.spec as { mode?: string }).mode === this.mode;
  }
  async reconcile(obj: ResourceObject, ctx: ReconcileContext) {
    const name = obj.metadata.name ?? '';
    this.calls.push(`reconcile ${name}@${obj.metadata.generation}`);
    const hold = this.holds.get(name);
    if (hold) {
      ctx.signal.addEventListener('abort', () => hold.reject(ctx.signal.reason), { once: true });
      await hold.promise;
    }
    return { status: { conditions: [{ type: this.name, status: 'True' }] } };
  }
  async finalize(obj: ResourceObject) {
    this.calls.push(`finalize ${obj.metadata.name}`);
  }
}

let controller: ReconcileController | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

async function start(state: RecordingState, reconcilers: Reconciler[]): Promise<{ flushed: () => number }> {
  let flushes = 0;
  controller = new ReconcileController({ state, reconcilers, journal: new MemoryFlowJournal(), finalizer: FINALIZER, onStatus: () => flushes++, log: quiet, concurrency: 4, resyncMs: 3_600_000 });
  await controller.start();
  return { flushed: () => flushes };
}

/** Waits for the queue and then for the status flush that follows it. */
async function settled(): Promise<void> {
  await controller!.idle();
  await new Promise((r) => setImmediate(r));
}

describe('ReconcileController', () => {
  it('reconciles what is in the state at start, and reports each object once', async () => {
    const state = new RecordingState();
    state.put(cluster('a'));
    state.put(cluster('b'));
    const r = new Recorder('Received');
    const { flushed } = await start(state, [r]);
    await settled();
    expect(r.calls.sort()).toEqual(['reconcile a@1', 'reconcile b@1']);
    expect(state.statuses.map((s) => s.ref.name).sort()).toEqual(['a', 'b']);
    expect(state.reconciled.get('Cluster/p/a')).toBe(1);
    expect(flushed()).toBe(1);
  });

  it("runs a Cluster again when its keys arrive (requeue), so a reconciler that found none sees them", async () => {
    const state = new RecordingState();
    const held = new Map<string, ClusterKeys>();
    const seen: Array<string | undefined> = [];
    const r: Reconciler = {
      name: 'needs-keys', kind: 'Cluster', owns: () => true,
      reconcile: async (obj, ctx) => void seen.push(ctx.secrets.clusterKeys(obj.metadata.uid ?? '')?.ca.certPem),
    };
    state.put(cluster('a'));
    controller = new ReconcileController({ state, reconcilers: [r], secrets: { clusterKeys: (uid) => held.get(uid) }, journal: new MemoryFlowJournal(), finalizer: FINALIZER, onStatus: () => undefined, log: quiet, resyncMs: 3_600_000 });
    await controller.start();
    await settled();
    held.set('uid-a', { ca: { certPem: 'ca', keyPem: 'k' }, frontProxyCa: { certPem: 'f', keyPem: 'k' }, etcdCa: { certPem: 'e', keyPem: 'k' }, serviceAccount: { publicKeyPem: 'p', privateKeyPem: 'k' } });
    controller.requeue({ kind: 'Cluster', namespace: 'p', name: 'a' });
    await settled();
    expect(seen).toEqual([undefined, 'ca']);
  });

  it("starts a reconciler's own watch before any run, lets it requeue an object, and stops it after the runs", async () => {
    const state = new RecordingState();
    state.put(cluster('a'));
    const events: string[] = [];
    let requeue: ((key: ObjectKey) => void) | undefined;
    const r: Reconciler = {
      name: 'watching', kind: 'Cluster', owns: () => true,
      start: async (rq) => void ((requeue = rq), events.push('start')),
      stop: async () => void events.push('stop'),
      reconcile: async (obj) => void events.push(`reconcile ${obj.metadata.name}`),
    };
    await start(state, [r]);
    await settled();
    requeue!({ kind: 'Cluster', namespace: 'p', name: 'a' });
    await settled();
    await controller!.stop();
    expect(events).toEqual(['start', 'reconcile a', 'reconcile a', 'stop']);
  });

  it('lets a slow object hold only itself: another is reconciled and reported meanwhile', async () => {
    const state = new RecordingState();
    const r = new Recorder('Received');
    r.holds.set('slow', Promise.withResolvers<void>());
    await start(state, [r]);
    controller!.changed([state.put(cluster('slow')), state.put(cluster('fast'))]);
    await new Promise((res) => setTimeout(res, 20));
    expect(state.conditionsOf('fast')).toEqual(['Received=True']);
    expect(state.conditionsOf('slow')).toEqual([]);
    r.holds.get('slow')!.resolve();
    await settled();
    expect(state.conditionsOf('slow')).toEqual(['Received=True']);
  });

  it('cuts a run short when its object changes, and runs the new generation', async () => {
    const state = new RecordingState();
    const r = new Recorder('Received');
    r.holds.set('a', Promise.withResolvers<void>());
    await start(state, [r]);
    controller!.changed([state.put(cluster('a'))]);
    await new Promise((res) => setTimeout(res, 10));
    r.holds.delete('a');
    controller!.changed([state.put(cluster('a', {}, { generation: 2 }))]);
    await settled();
    expect(r.calls).toEqual(['reconcile a@1', 'reconcile a@2']);
    expect(state.reconciled.get('Cluster/p/a')).toBe(2);
  });

  it('runs every reconciler that owns an object, and only those, merging their reports', async () => {
    const state = new RecordingState();
    const all = new Recorder('Received');
    const hosted = new Recorder('Hosted', 'hosted');
    const kubeadm = new Recorder('Kubeadm', 'kubeadm');
    await start(state, [all, hosted, kubeadm]);
    controller!.changed([state.put(cluster('h', { mode: 'hosted' }))]);
    await settled();
    expect([all.calls, hosted.calls, kubeadm.calls]).toEqual([['reconcile h@1'], ['reconcile h@1'], []]);
    expect(state.conditionsOf('h')).toEqual(['Received=True,Hosted=True']);
  });

  it('requeues the Clusters that use a changed Host, SSH key, Release or Datacenter, and no others', async () => {
    const state = new RecordingState();
    const r = new Recorder('Received');
    state.put(cluster('a', { datacenter: 'dc1', sshKeys: ['k'], version: '1.34.4' }));
    state.put(cluster('b', { datacenter: 'dc2', version: '1.33.0', controlPlane: { hostSelector: { role: 'cp' } } }));
    await start(state, [r]);
    await settled();
    r.calls.length = 0;
    const obj = (kind: string, name: string, spec: object, extra: object = {}) => ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, namespace: '', ...extra }, spec });
    controller!.changed([state.put(obj('Datacenter', 'dc1', {}))]);
    await settled();
    controller!.changed([state.put(obj('SSHKey', 'k', {}, { namespace: 'p' }))]);
    await settled();
    controller!.changed([state.put(obj('Release', 'r', { version: '1.33.0' }))]);
    await settled();
    controller!.changed([state.put(obj('Host', 'h1', {}, { labels: { role: 'cp' } }))]);
    await settled();
    expect(r.calls).toEqual(['reconcile a@1', 'reconcile a@1', 'reconcile b@1', 'reconcile b@1']);
  });

  it('finalizes a Cluster being deleted with every owner, then releases the finalizer once', async () => {
    const state = new RecordingState();
    const a = new Recorder('Received');
    const b = new Recorder('Hosted');
    await start(state, [a, b]);
    controller!.changed([state.put(cluster('x'))]);
    await settled();
    controller!.changed([state.put(cluster('x', {}, { deletionTimestamp: '2026-12-01T10:00:00Z' }))]);
    await settled();
    expect([a.calls.at(-1), b.calls.at(-1)]).toEqual(['finalize x', 'finalize x']);
    expect(state.released()).toEqual([['x', 'uid-x']]);
  });

  it('finalizes an object that left the view from its last-known state, then forgets it', async () => {
    const state = new RecordingState();
    const r = new Recorder('Received');
    await start(state, [r]);
    controller!.changed([state.put(cluster('y'))]);
    await settled();
    controller!.changed([state.remove({ kind: 'Cluster', namespace: 'p', name: 'y' })]);
    await settled();
    expect(r.calls).toEqual(['reconcile y@1', 'finalize y']);
    expect(state.tombstones()).toEqual([]);
    expect(state.released()).toEqual([['y', 'uid-y']]);
  });

  it('resumes unfinished deletions at start', async () => {
    const state = new RecordingState();
    state.put(cluster('z'));
    state.remove({ kind: 'Cluster', namespace: 'p', name: 'z' });
    const r = new Recorder('Received');
    await start(state, [r]);
    await settled();
    expect(r.calls).toEqual(['finalize z']);
    expect(state.tombstones()).toEqual([]);
  });

  it('retries a failing reconcile with backoff and reports nothing twice', async () => {
    const state = new RecordingState();
    let attempts = 0;
    const flaky: Reconciler = {
      name: 'flaky',
      kind: 'Cluster',
      owns: () => true,
      reconcile: async () => {
        if (++attempts < 3) throw new Error('seed apiserver unreachable');
        return { status: { conditions: [{ type: 'Ready', status: 'True' }] } };
      },
    };
    controller = new ReconcileController({ state, reconcilers: [flaky], journal: new MemoryFlowJournal(), finalizer: FINALIZER, onStatus: () => undefined, log: quiet, backoff: { baseMs: 5, capMs: 10 } });
    await controller.start();
    controller.changed([state.put(cluster('f'))]);
    await new Promise((res) => setTimeout(res, 100));
    await settled();
    expect(attempts).toBe(3);
    expect(state.conditionsOf('f')).toEqual(['Ready=True']);
  });

  it('refuses two reconcilers of one name', () => {
    expect(() => new ReconcileController({ state: new RecordingState(), reconcilers: [new Recorder('x'), new Recorder('x')], journal: new MemoryFlowJournal(), finalizer: FINALIZER, onStatus: () => undefined, log: quiet })).toThrow('two reconcilers are named "x"');
  });
});
