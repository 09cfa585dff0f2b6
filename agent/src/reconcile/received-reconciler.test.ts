import type { ResourceObject } from '@outpost/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryFlowJournal } from '../engine/index.js';
import { keyOf } from '../state/local-state.js';
import { MemoryLocalState } from '../state/memory-local-state.js';
import { ReconcileController } from './controller.js';
import { ReceivedReconciler } from './received-reconciler.js';
import type { Reconciler } from './reconciler.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
const cluster = (generation: number): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo', uid: 'u1', generation }, spec: {} });

let controller: ReconcileController | undefined;
afterEach(() => controller?.stop());

describe('ReceivedReconciler', () => {
  it('costs the hub one status per generation, with Received and the flow as Succeeded, and none on a resync', async () => {
    const state = new MemoryLocalState();
    let flushes = 0;
    controller = new ReconcileController({ state, reconcilers: [new ReceivedReconciler()], journal: new MemoryFlowJournal(), finalizer: 'agent.outpost.dev/site.s', onStatus: () => flushes++, log: quiet });
    await controller.start();
    const settle = async () => {
      await controller!.idle();
      await new Promise((r) => setTimeout(r, 5));
    };
    for (const generation of [1, 2]) {
      controller.changed(state.apply({ snapshot: false, revision: generation, changes: [{ key: keyOf(cluster(generation)), object: cluster(generation) }] }));
      await settle();
    }
    const sent = state.pendingStatuses();
    expect(flushes).toBe(2);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ seq: 2, ref: { kind: 'Cluster', namespace: 'demo', name: 'pos', uid: 'u1' }, cluster: { observedGeneration: 2, lastOperation: { type: 'Reconcile', state: 'Succeeded', progress: 100 } } });
    expect(sent[0]?.cluster?.conditions?.map((c) => [c.type, c.status, c.message])).toEqual([['Received', 'True', 'agent holds generation 2']]);
    // A resync reconciles again and has nothing new to say.
    controller.changed([{ key: keyOf(cluster(2)), object: cluster(2), deleted: false }]);
    await settle();
    expect(flushes).toBe(2);
  });

  it('leaves lastOperation to the reconciler that makes a Cluster real, and still says Received', async () => {
    const state = new MemoryLocalState();
    const maker: Reconciler = { name: 'maker', kind: 'Cluster', owns: (o: ResourceObject) => o.metadata.name === 'pos', reconcile: async () => ({ status: { phase: 'Creating' } }) };
    controller = new ReconcileController({ state, reconcilers: [new ReceivedReconciler([maker]), maker], journal: new MemoryFlowJournal(), finalizer: 'agent.outpost.dev/site.s', onStatus: () => undefined, log: quiet });
    await controller.start();
    const other: ResourceObject = { ...cluster(1), metadata: { name: 'till', namespace: 'demo', uid: 'u2', generation: 1 } };
    controller.changed(state.apply({ snapshot: false, revision: 1, changes: [cluster(1), other].map((o) => ({ key: keyOf(o), object: o })) }));
    await controller.idle();
    await new Promise((r) => setTimeout(r, 5));
    const sent = new Map(state.pendingStatuses().map((s) => [s.ref.name, s.cluster]));
    expect(sent.get('pos')?.lastOperation).toBeUndefined();
    expect(sent.get('pos')?.phase).toBe('Creating');
    expect(sent.get('pos')?.conditions?.map((c) => [c.type, c.status])).toEqual([['Received', 'True']]);
    // One no other reconciler owns keeps the one-step flow as its progress.
    expect(sent.get('till')?.lastOperation).toMatchObject({ type: 'Reconcile', state: 'Succeeded' });
  });
});
