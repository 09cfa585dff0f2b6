// The reconciler's decisions against an in-memory seed (the real apiserver is test/e2e/seed-agent.test.ts's).
import type { ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { FlowFailedError, MemoryFlowJournal } from '../engine/index.js';
import { NO_CLUSTER_SECRETS, type ReconcileContext, type StatusPatch } from '../reconcile/reconciler.js';
import { NamespaceTakenError, SeedUnreachableError } from './errors.js';
import { HostedClusterReconciler } from './hosted-cluster-reconciler.js';
import type { SeedApi, SeedNamespace } from './seed-api.js';

class MemorySeed implements SeedApi {
  readonly server = 'https://seed.test:6443';
  readonly namespaces = new Map<string, SeedNamespace>();
  /** Gets a deleted namespace answers before it is gone (the namespace controller's work). */
  terminatingGets = 0;
  down = false;
  /** Accepts connections and never answers: calls end only when their signal fires. */
  wedged = false;

  private check(): void {
    if (this.down) throw new SeedUnreachableError(this.server, new Error('connect ECONNREFUSED'));
  }
  async getNamespace(name: string, signal: AbortSignal): Promise<SeedNamespace | undefined> {
    this.check();
    if (this.wedged) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    const ns = this.namespaces.get(name);
    if (ns?.phase === 'Terminating' && this.terminatingGets-- <= 0) this.namespaces.delete(name);
    return this.namespaces.get(name);
  }
  async applyNamespace(name: string, labels: Record<string, string>): Promise<void> {
    this.check();
    this.namespaces.set(name, { labels: { ...this.namespaces.get(name)?.labels, ...labels }, phase: 'Active' });
  }
  async deleteNamespace(name: string): Promise<void> {
    this.check();
    const ns = this.namespaces.get(name);
    if (ns) ns.phase = 'Terminating';
  }
}

const hosted = (name = 'web'): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace: 'p', uid: 'u', generation: 3 }, spec: { controlPlane: { mode: 'hosted' } } });
const OURS = { 'outpost.dev/project': 'p', 'outpost.dev/cluster': 'web' };

function context(): { ctx: ReconcileContext; reports: StatusPatch[] } {
  const reports: StatusPatch[] = [];
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };
  const ctx: ReconcileContext = { signal: new AbortController().signal, view: { get: () => undefined, list: () => [] }, journal: new MemoryFlowJournal(), secrets: NO_CLUSTER_SECRETS, report: (p) => reports.push(p), log: quiet };
  return { ctx, reports };
}

const conditionsOf = (patches: readonly StatusPatch[]) => Object.fromEntries(patches.flatMap((p) => p.conditions ?? []).map((c) => [c.type, [c.status, c.reason]]));

describe('HostedClusterReconciler', () => {
  it('owns hosted Clusters only', () => {
    const r = new HostedClusterReconciler({ api: new MemorySeed() });
    expect(r.owns(hosted())).toBe(true);
    expect(r.owns({ ...hosted(), spec: { controlPlane: { mode: 'kubeadm' } } })).toBe(false);
  });

  it('applies the labelled namespace and reports NamespaceReady, phase Creating', async () => {
    const seed = new MemorySeed();
    const { ctx } = context();
    const out = await new HostedClusterReconciler({ api: seed }).reconcile(hosted(), ctx);
    expect(seed.namespaces.get('cluster-p-web')).toEqual({ labels: OURS, phase: 'Active' });
    expect(out.status?.phase).toBe('Creating');
    expect(conditionsOf([out.status ?? {}])).toEqual({ SeedReachable: ['True', 'Answered'], NamespaceReady: ['True', 'Applied'] });
  });

  it("refuses a namespace of that name that is another cluster's, and touches nothing", async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: { team: 'shop' }, phase: 'Active' });
    const { ctx, reports } = context();
    const err = await new HostedClusterReconciler({ api: seed }).reconcile(hosted(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowFailedError);
    expect((err as Error).message).toContain(new NamespaceTakenError('cluster-p-web', { team: 'shop' }).message);
    expect(seed.namespaces.get('cluster-p-web')?.labels).toEqual({ team: 'shop' });
    expect(conditionsOf(reports)).toMatchObject({ SeedReachable: ['True', 'Answered'], NamespaceReady: ['False', 'NamespaceTaken'] });
  });

  it('waits for a Terminating namespace of an earlier cluster to go before it applies', async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: OURS, phase: 'Terminating' });
    seed.terminatingGets = 5;
    const { ctx } = context();
    await expect(new HostedClusterReconciler({ api: seed }).reconcile(hosted(), ctx)).rejects.toThrow('is still being deleted');
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Terminating');
  });

  it('says SeedReachable=False when the seed does not answer, and claims nothing of the namespace', async () => {
    const seed = new MemorySeed();
    seed.down = true;
    const { ctx, reports } = context();
    await expect(new HostedClusterReconciler({ api: seed }).reconcile(hosted(), ctx)).rejects.toThrow('ECONNREFUSED');
    expect(conditionsOf(reports)).toEqual({ SeedReachable: ['False', 'Unreachable'] });
    expect(reports.at(-1)?.phase).toBe('Creating');
  });

  it('counts a seed that does not answer within the step timeout as unreachable', async () => {
    const seed = new MemorySeed();
    seed.wedged = true;
    const { ctx, reports } = context();
    await expect(new HostedClusterReconciler({ api: seed, stepTimeoutMs: 20 }).reconcile(hosted(), ctx)).rejects.toThrow('timed out after 20 ms');
    expect(conditionsOf(reports)).toEqual({ SeedReachable: ['False', 'Unreachable'] });
    expect(reports.flatMap((r) => r.conditions ?? []).find((c) => c.type === 'SeedReachable')?.message).toContain('https://seed.test:6443');
  });

  it('finalizes by deleting the namespace and returning only once it is gone', async () => {
    const seed = new MemorySeed();
    await new HostedClusterReconciler({ api: seed }).reconcile(hosted(), context().ctx);
    seed.terminatingGets = 3;
    const { ctx, reports } = context();
    await new HostedClusterReconciler({ api: seed, deletePollMs: 1 }).finalize(hosted(), ctx);
    expect(seed.namespaces.has('cluster-p-web')).toBe(false);
    expect(seed.terminatingGets).toBeLessThan(0);
    expect(reports[0]?.phase).toBe('Deleting');
    expect(reports.at(-1)?.lastOperation).toMatchObject({ type: 'Delete', state: 'Succeeded' });
  });

  it("leaves alone a namespace of that name that is not this cluster's, and fails while the seed is down", async () => {
    const seed = new MemorySeed();
    seed.namespaces.set('cluster-p-web', { labels: { team: 'shop' }, phase: 'Active' });
    const r = new HostedClusterReconciler({ api: seed, deletePollMs: 1 });
    await r.finalize(hosted(), context().ctx);
    expect(seed.namespaces.get('cluster-p-web')?.phase).toBe('Active');
    seed.down = true;
    const { ctx, reports } = context();
    await expect(r.finalize(hosted(), ctx)).rejects.toThrow('ECONNREFUSED');
    expect(conditionsOf(reports)).toEqual({ SeedReachable: ['False', 'Unreachable'] });
  });
});
