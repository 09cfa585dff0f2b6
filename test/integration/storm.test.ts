// Reconnect storm under overload, at a size CI affords: a few thousand simulated agents (the real
// HubLink), a hub whose gateway processes get a fraction of the CPU (SIGSTOP/SIGCONT duty cycling from
// this test, as cpulimit does; the hub itself is unchanged), and the hub killed -9 and restarted, then
// killed again in the middle of the storm. The collapse this provokes at 100,000 agents was agents
// closing links the hub had completed ("hub silent") because one side's loop was starved, then
// redialling into the same overload. Asserted: no agent closes its link for silence more than once,
// the fleet converges within a stated bound, and every agent holds (and the hub records it as acked)
// the hub's revision.
import { findKind, type Agent } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processTree } from '../lib/processes.js';
import { dutyCycle } from '../bench/scale/duty-cycle.js';
import { ScaleRun } from '../bench/scale/scale-run.js';

const AGENTS = Number(process.env.STORM_AGENTS ?? 1500);
/** Gateway processes run 150 ms of every 500 ms: 30 % of the CPU they would get, in stalls of 350 ms. */
const RUN_MS = Number(process.env.STORM_RUN_MS ?? 150);
const PERIOD_MS = Number(process.env.STORM_PERIOD_MS ?? 500);
/** From the second kill to every agent back and synced. */
const CONVERGE_MS = 60_000;

describe(`reconnect storm: ${AGENTS} agents, gateway processes at ${Math.round((100 * RUN_MS) / PERIOD_MS)} % CPU`, () => {
  let run: ScaleRun;
  beforeAll(async () => {
    // 1 s heartbeats: the silence limit is 3 s, so the starved hub's stalls come close to it.
    // STORM_LOG=1 prints the storm monitor's lines (connected, CPU of hub and fleet, why dials failed).
    const log = process.env.STORM_LOG ? (line: string) => void process.stderr.write(`${line}\n`) : undefined;
    run = await ScaleRun.prepare({ agents: AGENTS, heartbeatMs: 1000, workers: 2, gatewayProcesses: 2, ...(log ? { log } : {}) });
    // The first connect joins every agent (a token redeemed, a credential hashed): not throttled.
    await run.connectAll(120_000);
  }, 150_000);
  afterAll(async () => run?.stop(), 60_000);

  it('converges after kill -9, twice, with no agent closing its link for silence more than once', async () => {
    const throttle = dutyCycle(() => processTree(run.hubPid).slice(1), RUN_MS, PERIOD_MS);
    try {
      // A revision every agent must reach, made while the hub is starved.
      await run.fleetRolloutSeconds('1.33.8');
      const first = await run.fleet.stats();
      // Killed once, and again once the storm is under way (some agents back, most not).
      await run.killAndRestart();
      const startedAt = Date.now();
      // Progress comes every 500 ms: past the reports from before the kill, then a tenth of the fleet back.
      await new Promise((r) => setTimeout(r, 1500));
      await run.waitUntil(() => run.fleet.progress().connected >= AGENTS / 10, 40_000);
      await run.killAndRestart();
      const r = await run.reconnected(first.minConnects + 1, CONVERGE_MS);
      const stats = await run.fleet.stats();
      const seconds = (Date.now() - startedAt) / 1000;
      console.log(`storm: converged ${r.seconds.toFixed(1)} s after the second kill (${seconds.toFixed(1)} s after the first restart); closes for silence ${stats.silentCloses} (at most ${stats.maxSilentCloses} per agent); upgrades shed with Retry-After ${stats.shedRefusals}`);
      expect(stats.connected).toBe(AGENTS);
      expect(stats.maxSilentCloses).toBeLessThanOrEqual(1);
      const revision = await run.hubRevision();
      expect(stats.minRevision).toBe(revision);
      expect(stats.maxRevision).toBe(revision);
      // The hub's record agrees: every agent connected, and acked at the hub's revision.
      await run.waitUntil(async () => {
        const agents = await run.hub.api().list<Agent>(findKind('agents')!);
        return agents.items.filter((a) => a.status?.connected && a.status.ackedRevision === revision).length === AGENTS;
      }, 10_000);
    } finally {
      throttle.stop();
    }
  }, 150_000);
});
