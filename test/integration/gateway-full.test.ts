// A hub whose gateway processes are all full must not make agents give up. Real HubLinks (the scale
// bench's simulated agents) dial a hub of two gateway processes with room for 40 connections between
// them; 50 agents want in. The ones left out are refused (a full process leaves the listening socket
// to its siblings, and with every one full nobody accepts) for as long as the hub stays full. Then the
// hub is killed -9 and started again with room for all: every agent, those refused for the longest
// too, must be back within its capped backoff, and a release made then must reach every one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processTree } from '../lib/processes.js';
import { ScaleRun } from '../bench/scale/scale-run.js';
import { heldConnections } from '../bench/scale/proc-stats.js';

const LIMIT = 20;
const AGENTS = 50;
/** The agent's backoff is capped at 30 s (engine/backoff.ts), with jitter on top. */
const BACK_WITHIN_MS = 45_000;

describe(`agents at a hub whose gateway processes are full (${AGENTS} agents, room for ${2 * LIMIT})`, () => {
  let run: ScaleRun;
  beforeAll(async () => {
    run = await ScaleRun.prepare({ agents: AGENTS, workers: 1, gatewayProcesses: 2, heartbeatMs: 1000, hubServeArgs: ['--connections-per-gateway-process', String(LIMIT)] });
  }, 60_000);
  afterAll(async () => run?.stop(), 60_000);

  it('fills both processes and leaves the rest dialling, not given up', async () => {
    run.startFleet();
    await run.waitUntil(() => (run.hub.proc!.stderr.match(/gateway process full/g)?.length ?? 0) >= 2, 60_000);
    // Held full a while: the agents left out keep trying all along (their backoff grows to its cap).
    await new Promise((r) => setTimeout(r, 10_000));
    const connected = run.fleet.progress().connected;
    expect(connected).toBeLessThanOrEqual(2 * LIMIT);
    expect(connected).toBeGreaterThan(0);
    expect(run.fleet.progress().failed).toBe(0);
    // No gateway process holds more connections on the hub's port than its limit.
    const port = Number(new URL(run.hub.url).port);
    for (const pid of processTree(run.hubPid).slice(1)) expect(heldConnections(pid, port)).toBeLessThanOrEqual(LIMIT);
    expect(run.hub.proc!.alive).toBe(true);
  }, 90_000);

  it('brings every agent in once there is room, those refused longest too', async () => {
    const before = await run.fleet.stats();
    run.hub.serveArgs = ['--connections-per-gateway-process', String(4 * LIMIT)];
    const killedAt = await run.killAndRestart();
    // Every agent connected at least once more than the fewest any had (those never in: once at all),
    // and connected now. (Not "at the revision read after the restart": the late joiners' own Agents
    // move the hub's revision on outside the others' views, so an agent back early rightly holds less.)
    await run.waitUntil(async () => {
      const s = await run.fleet.stats();
      return s.connected === AGENTS && s.minConnects >= before.minConnects + 1;
    }, BACK_WITHIN_MS);
    const backSeconds = (Date.now() - killedAt) / 1000;
    // Synced, not only connected: a write in every agent's view reaches every one of them.
    const rollout = await run.fleetRolloutSeconds('1.40.0');
    expect((await run.fleet.stats()).connected).toBe(AGENTS);
    console.log(`gateway full: all ${AGENTS} agents back ${backSeconds.toFixed(1)} s after the kill, restarted with room (${before.connected} had been in); a release reached all in ${rollout.seconds.toFixed(2)} s`);
  }, 120_000);
});
