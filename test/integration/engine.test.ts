// The agent's engine against a real hub process: the agent's own startAgent (real SQLite, WebSocket, TLS)
// with a slow reconciler beside Received, and dependency triggers through real pulls.
import { engine, ReceivedReconciler, startAgent, type ReconcileContext, type Reconciler, type RunningAgent } from '@outpost/agent';
import { findKind, type Cluster, type ResourceObject } from '@outpost/proto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, datacenter, project, release, site } from '../lib/fixtures.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';

const K = (n: string) => findKind(n)!;

/** Holds its object's reconcile until released, and counts runs per object: the slow part of a real seed. */
class SlowReconciler implements Reconciler {
  readonly name = 'slow';
  readonly kind = 'Cluster';
  readonly runs = new Map<string, number>();
  readonly steps: string[] = [];
  private readonly gate = Promise.withResolvers<void>();
  owns(obj: ResourceObject): boolean {
    return obj.metadata.name === 'slow';
  }
  release(): void {
    this.gate.resolve();
  }
  async reconcile(obj: ResourceObject, ctx: ReconcileContext) {
    this.runs.set(obj.metadata.name ?? '', (this.runs.get(obj.metadata.name ?? '') ?? 0) + 1);
    const flow = new engine.Flow('provision', [
      { name: 'wait', run: async (signal) => Promise.race([this.gate.promise, new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))]) },
      { name: 'ready', dependsOn: ['wait'], run: async () => void this.steps.push('ready') },
    ]);
    await flow.run({ flowId: `slow/${obj.metadata.name}`, revision: String(obj.metadata.generation), journal: ctx.journal, signal: ctx.signal });
    return { status: { phase: 'Running' } };
  }
}

/** Counts reconciles per Cluster, to see dependency triggers. */
class Counter implements Reconciler {
  readonly name = 'counter';
  readonly kind = 'Cluster';
  readonly runs = new Map<string, number>();
  owns(): boolean {
    return true;
  }
  async reconcile(obj: ResourceObject) {
    this.runs.set(obj.metadata.name ?? '', (this.runs.get(obj.metadata.name ?? '') ?? 0) + 1);
  }
}

describe('the agent engine against a real hub', () => {
  let hub: TestHub;
  let agent: RunningAgent;
  const slow = new SlowReconciler();
  const counter = new Counter();

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.apply(project('p'), site('s1'), datacenter('dc1', { site: 's1' }), datacenter('dc2', { site: 's1' }), cluster('slow', 'p', 'dc1', { version: '1.34.4' }), cluster('fast', 'p', 'dc1', { version: '1.34.4' }), cluster('other', 'p', 'dc2', { version: '1.33.0' }));
    const joined = await TestAgent.join(hub, { site: 's1' }, 'engine');
    agent = await startAgent({ dataDir: joined.dataDir, reconcilers: [new ReceivedReconciler(), slow, counter] }, pino({ level: 'warn' }));
  });
  afterAll(async () => {
    slow.release();
    await agent?.stop();
    await hub?.stop();
  });

  const cl = (name: string) => hub.api().get<Cluster>(K('clusters'), name, 'p');

  it('reports Received for one Cluster while a slow reconciler holds another', async () => {
    const fast = await waitFor('fast Received', async () => ((await cl('fast')).status?.conditions?.some((c) => c.type === 'Received') ? cl('fast') : undefined));
    expect(fast.status?.lastOperation).toMatchObject({ type: 'Reconcile', state: 'Succeeded', progress: 100 });
    // Received ran for it before the slow one (owners of one object run in turn); the slow one holds it.
    const held = await cl('slow');
    expect(held.status?.phase).toBeFalsy();
    expect(slow.runs.get('slow')).toBe(1);
    slow.release();
    const done = await waitFor('slow Running', async () => ((await cl('slow')).status?.phase === 'Running' ? cl('slow') : undefined));
    expect(done.status?.conditions?.find((c) => c.type === 'Received')?.status).toBe('True');
    expect(slow.steps).toEqual(['ready']);
  });

  it('requeues exactly the Clusters that use a changed Release or Datacenter', async () => {
    await waitFor('every Cluster reconciled', () => ['other', 'fast', 'slow'].every((n) => counter.runs.has(n)));
    await agent.reconcile.idle();
    const before = (n: string) => counter.runs.get(n) ?? 0;
    const start = { other: before('other'), fast: before('fast'), slow: before('slow') };
    await hub.apply(release('1.33.0'));
    await waitFor('other requeued by its Release', () => before('other') === start.other + 1);
    await agent.reconcile.idle();
    expect([before('fast'), before('slow')]).toEqual([start.fast, start.slow]);
    const dc = await hub.api().get<ResourceObject>(K('datacenters'), 'dc1');
    await hub.api().replace({ ...dc, spec: { ...(dc.spec as object), location: 'moved rack' } } as never);
    await waitFor('dc1 clusters requeued', () => before('fast') === start.fast + 1 && before('slow') === start.slow + 1);
    await agent.reconcile.idle();
    expect(before('other')).toBe(start.other + 1);
  });

  it('shows each component healthy', () => {
    expect(agent.health().map((h) => [h.name, h.ok])).toEqual([['local-state', true], ['artifact-cache', true], ['reconcilers', true], ['cluster-keys', true], ['hub-link', true]]);
  });
});
