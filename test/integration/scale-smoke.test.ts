// Scale smoke: 2,000 simulated agents on a real hub. Correctness only (timings are the bench's job):
// every agent connects, every agent acks a fleet-wide change, every agent comes back after kill -9, and
// that reconnect takes no global revision (presence lives beside the revisioned objects).
import { findKind, type Agent } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaleRun } from '../bench/scale/scale-run.js';

const AGENTS = 2000;

describe(`scale smoke: ${AGENTS} agents`, () => {
  let run: ScaleRun;
  beforeAll(async () => {
    // Two gateway processes: the fleet is served the way a 100,000-agent hub serves it.
    run = await ScaleRun.prepare({ agents: AGENTS, heartbeatMs: 2000, workers: 2, gatewayProcesses: 2 });
  }, 120_000);
  afterAll(async () => run?.stop(), 60_000);

  it('connects every agent', async () => {
    await run.connectAll(180_000);
    const stats = await run.fleet.stats();
    expect(stats.connected).toBe(AGENTS);
    expect(stats.synced).toBe(AGENTS);
  }, 200_000);

  it('has every agent ack a change in every view', async () => {
    const { seconds } = await run.fleetRolloutSeconds('1.33.7');
    expect(seconds).toBeGreaterThan(0);
  }, 120_000);

  it('brings every agent back after the hub is killed -9', async () => {
    const r = await run.killAndReconnect(180_000);
    const stats = await run.fleet.stats();
    expect(stats.connected).toBe(AGENTS);
    expect(stats.minConnects).toBeGreaterThanOrEqual(2);
    expect(r.maxAgentReconnectSeconds).toBeGreaterThan(0);
    // The hub kept its ticket keys over the restart: agents resumed their TLS sessions.
    expect(r.resumedShare).toBeGreaterThan(0.5);
    // 2,000 connects and acks (presence written by the primary from both gateway processes' events)
    // and not one revision, change-log row or audit row for them.
    expect(r.revisionBeforeReconnect).toBeGreaterThan(0);
    expect(r.revisionAfterReconnect).toBe(r.revisionBeforeReconnect);
    // ... yet the admin API shows every agent connected and acked at that revision.
    const agents = await run.hub.api().list<Agent>(findKind('agents')!);
    expect(agents.items.filter((a) => a.status?.connected && a.status.ackedRevision === r.revisionAfterReconnect)).toHaveLength(AGENTS);
  }, 200_000);
});
