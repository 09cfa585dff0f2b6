import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, ResourceObject } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { ReleaseConditionController } from './release-condition.js';

const ctx = { actor: 'test' };
const GV = 'outpost.dev/v1alpha1';
const cluster = (name: string, version: string): ResourceObject => ({ apiVersion: GV, kind: 'Cluster', metadata: { name, namespace: 'p' }, spec: { datacenter: 'dc1', version } });
const release = (version: string): ResourceObject => ({ apiVersion: GV, kind: 'Release', metadata: { name: version }, spec: { version } });
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('ReleaseConditionController', () => {
  let dir: string;
  let store: Store;
  let controller: ReleaseConditionController | undefined;
  const available = (name: string): string | null | undefined => store.get<Cluster>('Cluster', 'p', name)?.status?.conditions?.find((c) => c.type === 'ReleaseAvailable')?.status;
  const clustersAvailable = (n: number): number => Array.from({ length: n }, (_, i) => available(`c${i}`)).filter((s) => s === 'True').length;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-release-condition-'));
    store = new Store(join(dir, 'hub.db'));
    store.create({ apiVersion: GV, kind: 'Project', metadata: { name: 'p' }, spec: {} }, ctx);
  });
  afterEach(() => {
    controller?.stop();
    controller = undefined;
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says so by the time the write that changed it returns, on a hub of a few Clusters', () => {
    controller = new ReleaseConditionController(store);
    controller.resyncAll();
    store.create(cluster('c0', '1.33.0'), ctx);
    expect(available('c0')).toBe('False');
    store.create(release('1.33.0'), ctx);
    expect(available('c0')).toBe('True');
    expect(store.get<Cluster>('Cluster', 'p', 'c0')?.status?.conditions?.find((c) => c.type === 'ReleaseAvailable')?.reason).toBe('ReleaseFound');
  });

  it('writes a fleet-wide flip a chunk per turn, so the write that made the Release returns at once', async () => {
    for (let i = 0; i < 35; i++) store.create(cluster(`c${i}`, i < 30 ? '1.33.0' : '1.34.0'), ctx);
    controller = new ReleaseConditionController(store, 10);
    controller.resyncAll();
    await turns(10);
    expect(controller.pending).toBe(0);
    store.create(release('1.33.0'), ctx);
    // The first chunk within the write, the other 20 of the version's 30 later.
    expect(clustersAvailable(35)).toBe(10);
    expect(controller.pending).toBe(20);
    await turns(5);
    expect(controller.pending).toBe(0);
    expect(clustersAvailable(35)).toBe(30);
    expect(available('c30')).toBe('False');
  });

  it("queues nothing for its own writes: once caught up, it writes no more", async () => {
    for (let i = 0; i < 25; i++) store.create(cluster(`c${i}`, '1.33.0'), ctx);
    controller = new ReleaseConditionController(store, 10);
    controller.resyncAll();
    store.create(release('1.33.0'), ctx);
    await turns(10);
    expect(clustersAvailable(25)).toBe(25);
    const revision = store.revision();
    await turns(10);
    expect(store.revision()).toBe(revision);
    expect(controller.pending).toBe(0);
  });

  it('brings Clusters made before it started up to date, a chunk now and the rest after', async () => {
    for (let i = 0; i < 25; i++) store.create(cluster(`c${i}`, '1.33.0'), ctx);
    store.create(release('1.33.0'), ctx);
    expect(clustersAvailable(25)).toBe(0);
    controller = new ReleaseConditionController(store, 10);
    controller.resyncAll();
    expect(clustersAvailable(25)).toBe(10);
    await turns(5);
    expect(clustersAvailable(25)).toBe(25);
  });

  it('writes nothing once stopped, though Clusters were still due', async () => {
    for (let i = 0; i < 25; i++) store.create(cluster(`c${i}`, '1.33.0'), ctx);
    controller = new ReleaseConditionController(store, 10);
    controller.resyncAll();
    await turns(5);
    store.create(release('1.33.0'), ctx);
    controller.stop();
    const revision = store.revision();
    await turns(5);
    expect(store.revision()).toBe(revision);
    expect(clustersAvailable(25)).toBe(10);
  });
});
