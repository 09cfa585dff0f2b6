// npm run bench:release-flip -- [--clusters N] [--label L]
// A Release that every Cluster of a fleet names, made on a store of N Clusters with the hub's
// ReleaseAvailable controller subscribed (in this process, on a real SQLite file, as the hub's primary
// runs it): how long the write that makes the Release takes to return (what the API's caller waits, and
// how long the primary's loop is held), and how long until every Cluster says ReleaseAvailable=True.
// Also the controller's resync at start. Writes test/bench/results/release-flip[-L].json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReleaseConditionController, Store } from '@outpost/hub';
import type { Cluster } from '@outpost/proto';
import { seedFleet, clusterName } from './scale/fleet.js';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '100000' }, label: { type: 'string' } } });
const clusters = Number(values.clusters);
if (!Number.isInteger(clusters) || clusters < 1) throw new Error(`--clusters ${values.clusters} is not a positive whole number`);

const dir = mkdtempSync(join(tmpdir(), 'outpost-release-flip-'));
const ctx = { actor: 'bench' };
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Longest the loop went without a turn while `until` was false: what every other request would wait. */
async function heldLoop(until: () => boolean): Promise<number> {
  let worst = 0;
  let last = performance.now();
  while (!until()) {
    await turn();
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }
  return worst;
}
try {
  console.log(`seeding ${clusters} clusters`);
  seedFleet(dir, clusters);
  const store = new Store(join(dir, 'hub.db'));
  const allSay = (status: string): boolean => {
    for (const i of [0, Math.floor(clusters / 2), clusters - 1]) {
      const c = store.get<Cluster>('Cluster', 'fleet', clusterName(i));
      if (c?.status?.conditions?.find((x) => x.type === 'ReleaseAvailable')?.status !== status) return false;
    }
    return true;
  };
  const controller = new ReleaseConditionController(store);
  let t = performance.now();
  controller.resyncAll();
  const resyncReturnMs = performance.now() - t;
  const resyncLoopHeldMs = Math.max(resyncReturnMs, await heldLoop(() => allSay('False') && controller.pending === 0));
  const resyncDoneMs = performance.now() - t;
  console.log(`resync at start: returned in ${resyncReturnMs.toFixed(0)} ms, all False in ${resyncDoneMs.toFixed(0)} ms`);

  t = performance.now();
  store.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: '1.33.0' }, spec: { version: '1.33.0' } }, ctx);
  const writeReturnMs = performance.now() - t;
  const loopHeldMs = Math.max(writeReturnMs, await heldLoop(() => allSay('True') && controller.pending === 0));
  const allTrueMs = performance.now() - t;
  console.log(`release made: the write returned in ${writeReturnMs.toFixed(0)} ms, all ${clusters} True in ${allTrueMs.toFixed(0)} ms, loop held at most ${loopHeldMs.toFixed(0)} ms`);
  controller.stop();
  store.close();
  const result = {
    command: `npm run bench:release-flip -- ${process.argv.slice(2).join(' ')}`.trim(),
    clusters,
    resyncReturnMs: Math.round(resyncReturnMs),
    resyncDoneMs: Math.round(resyncDoneMs),
    resyncLoopHeldMs: Math.round(resyncLoopHeldMs),
    releaseWriteReturnMs: Math.round(writeReturnMs),
    releaseAllTrueMs: Math.round(allTrueMs),
    releaseLoopHeldMs: Math.round(loopHeldMs),
    node: process.version,
    measuredAt: new Date().toISOString(),
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  const out = join(import.meta.dirname, 'results', `release-flip${values.label ? `-${values.label}` : ''}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
