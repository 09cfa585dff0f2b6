// A hostile or broken agent, with a real credential, against a real hub process (issue 10): each attack
// below is bounded in time and count, and while it runs a well-behaved real agent keeps getting its
// changes (test/lib/ack-probe.ts), /healthz answers, the hub's memory stays bounded, and the store gets
// no more writes than the limits allow.
import { findKind, type Agent, type Cluster } from '@outpost/proto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackedRevision, probeAcks, type AckLatencies } from '../lib/ack-probe.js';
import { datacenter, host, project, release, site, cluster } from '../lib/fixtures.js';
import { dbBytes, healthz, rssBytes, storeCounts } from '../lib/hub-vitals.js';
import { TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { joinRaw, RawAgent, type RawIdentity } from '../lib/raw-agent.js';

const K = (n: string) => findKind(n)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Changes timed per probe: enough for a p99 that means something, few enough for a few seconds. */
const PROBE_CHANGES = 20;
/**
 * How much more than its quiet RSS the hub may grow during an attack. Unbounded, a thousand 8-byte Syncs
 * for this view (about 1 MiB) queued a gigabyte; bounded, one answer waits and the socket's buffers hold
 * a few more.
 */
const RSS_GROWTH_BOUND = 200 * 1024 * 1024;
/** The bad site's view is padded to about this, so every snapshot of it costs the hub real work. */
const VIEW_PADDING = 1024 * 1024;
/**
 * /healthz must answer within this during an attack. Generous for a loaded shared machine; the attacks
 * this suite guards against stopped it for 20 s.
 */
const HEALTHZ_TIMEOUT_MS = 5000;
/** The hub's audit limit in this suite (--audit-max-rows): small, so the status flood outgrows it. */
const AUDIT_MAX_ROWS = 100;

describe('hostile agents', () => {
  let hub: TestHub;
  let good: TestAgent;
  let bad: RawIdentity;
  let rssQuiet = 0;
  let changes = 0;

  beforeAll(async () => {
    hub = await TestHub.start({ serveArgs: ['--audit-max-rows', String(AUDIT_MAX_ROWS)] });
    await hub.apply(
      project('p'), release('1.33.0'),
      site('good'), datacenter('dc-good', { site: 'good' }),
      { ...site('bad'), spec: { location: 'x'.repeat(VIEW_PADDING) } }, datacenter('dc-bad', { site: 'bad' }), host('h-bad', 'bad'),
      ...Array.from({ length: 3 }, (_, i) => cluster(`c-bad-${i}`, 'p', 'dc-bad')),
      site('dup'),
    );
    good = (await TestAgent.join(hub, { site: 'good' }, 'good')).start();
    bad = await joinRaw(hub, { site: 'bad' }, 'bad');
    await waitFor('the good agent connected', async () => (await hub.api().get<Agent>(K('agents'), good.agentId)).status?.connected);
    await probe(5); // warm-up: the first writes and syncs pay for compilation
    rssQuiet = rssBytes(hubPid());
  }, 120_000);

  afterAll(async () => {
    await good?.stop();
    await hub?.stop();
  });

  function hubPid(): number {
    return hub.proc!.child.pid!;
  }

  function probe(n: number): Promise<AckLatencies> {
    return probeAcks({ api: hub.api(), agentId: good.agentId, change: () => hub.api().patch(K('sites'), 'good', { spec: { location: `room ${++changes}` } }) }, n);
  }

  /**
   * Runs `attack` (which ends by itself within seconds) beside a probe of the good agent, /healthz every
   * 200 ms and the hub's RSS; asserts the good agent was served within bounds throughout.
   */
  async function duringAttack(attack: (probing: () => boolean) => Promise<void>): Promise<{ latencies: AckLatencies; rssMax: number }> {
    // The quiet baseline right before each attack, so both see the same load from whatever else shares
    // this machine. Bound: three times the quiet p99, but never less than the quiet p99 plus 250 ms: the
    // acked revision is shown after the presence table's 250 ms batch, and on a shared 2-core machine one
    // scheduling hiccup of the hub, the agent or this process is of that order. Unbounded, an attack cost
    // seconds to tens of seconds.
    const quiet = await probe(PROBE_CHANGES);
    const latencyBound = Math.max(3 * quiet.p99, quiet.p99 + 250);
    let probing = true;
    let rssMax = 0;
    // Settled as they come: a hub that stops answering must fail this test, not leave rejections behind.
    const health: Array<Promise<string | undefined>> = [];
    const watch = setInterval(() => {
      rssMax = Math.max(rssMax, rssBytes(hubPid()));
      health.push(healthz(hub, HEALTHZ_TIMEOUT_MS).then(() => undefined, (err: Error) => err.message));
    }, 200);
    try {
      const [latencies] = await Promise.all([probe(PROBE_CHANGES).finally(() => (probing = false)), attack(() => probing)]);
      expect((await Promise.all(health)).filter(Boolean)).toEqual([]);
      expect(latencies.p99, `p99 ${latencies.p99.toFixed(0)} ms (samples ${latencies.samples.map((x) => x.toFixed(0)).join(' ')}); quiet p99 ${quiet.p99.toFixed(0)} ms`).toBeLessThan(latencyBound);
      expect(rssMax - rssQuiet, `RSS grew from ${rssQuiet >> 20} MiB to ${rssMax >> 20} MiB`).toBeLessThan(RSS_GROWTH_BOUND);
      expect(hub.proc?.alive).toBe(true);
      return { latencies, rssMax };
    } finally {
      clearInterval(watch);
    }
  }

  /** Sends `frames` in slices, yielding between them, for at most `ms`: the probe shares this process. */
  async function flood(raw: RawAgent, count: number, ms: number, frame: (i: number) => Parameters<RawAgent['send']>[0]): Promise<number> {
    const until = Date.now() + ms;
    let sent = 0;
    while (sent < count && Date.now() < until && !raw.closed) {
      for (let j = 0; j < 200 && sent < count; j++) raw.send(frame(sent++));
      await tick();
    }
    return sent;
  }

  it('answers one Sync at a time to an agent that never reads, and closes it, while the good agent is served', async () => {
    let raw!: RawAgent;
    await duringAttack(async () => {
      raw = await RawAgent.connect(hub, bad, { reading: false });
      await flood(raw, 1000, 2000, () => ({ sync: { since: 0 } }));
      // Still "heard" (heartbeats keep coming), but reading nothing: closed after six intervals.
      const deadline = Date.now() + 15_000;
      while (!hub.proc!.stderr.includes('is not reading') && Date.now() < deadline) {
        raw.send({ heartbeat: { sentAtMs: Date.now() } });
        await sleep(200);
      }
    });
    expect(hub.proc!.stderr).toMatch(new RegExp(`"agent":"${bad.agentId}".*not reading what the hub sends`));
    raw.resume();
    await waitFor('the hub closed the socket', () => raw.closed);
    // What it was answered is not counted here: the hub drops the socket, and a reset discards what the
    // client never read. That one Sync is answered at a time is agent-session.test.ts's; this test shows
    // its effect (the RSS bound in duringAttack: unbounded, these Syncs queued a gigabyte).
  }, 60_000);

  it('meters the Changes answered to an agent that reads but asks for its snapshot again and again', async () => {
    let raw!: RawAgent;
    let start = 0;
    await duringAttack(async (probing) => {
      // It reads and acks, as an agent does; it only asks for too much.
      raw = await RawAgent.connect(hub, bad, { acking: true });
      start = Date.now();
      while (probing()) {
        await flood(raw, 200, 500, () => ({ sync: { since: 0 } }));
        await sleep(50);
      }
    });
    const seconds = (Date.now() - start) / 1000;
    await sleep(300);
    const answers = raw.frames.filter((f) => f.changes && !f.changes.more).length;
    // 16 MiB at once, then 2 MiB/s (agent-session.ts, SYNC_BUDGET), of a ~1 MiB view; one more in flight.
    expect(answers).toBeLessThanOrEqual(Math.ceil(16 + 2 * seconds) + 2);
    expect(raw.closed).toBeUndefined();
    raw.close();
  }, 60_000);

  it('records a flood of statuses at the agent\'s rate, the latest one last, caps them, and keeps the audit log bounded', async () => {
    const ref = (i: number) => ({ kind: 'Cluster', namespace: 'p', name: `c-bad-${i % 3}` });
    const before = storeCounts(hub);
    const dbBefore = dbBytes(hub);
    const probeChanges = changes;
    let sent = 0;
    let start = 0;
    let raw!: RawAgent;
    await duringAttack(async () => {
      raw = await RawAgent.connect(hub, bad);
      start = Date.now();
      // Every report different (a new reason each time): none is a no-op the store skips anyway.
      sent = await flood(raw, 12_000, 3000, (i) => ({ status: { seq: i + 1, ref: ref(i), cluster: { phase: 'Creating', conditions: [{ type: 'Ready', status: 'False', reason: `Step${i}` }] } } }));
    });
    const seconds = (Date.now() - start) / 1000;
    const lastSeq = sent;
    // Coalesced, not dropped: each cluster's last report lands, and everything is acked.
    await waitFor('every status acked', () => raw.frames.some((f) => Number(f.ack?.statusSeq ?? 0) === lastSeq), 20_000);
    for (let c = 0; c < 3; c++) {
      const lastOf = sent - 1 - ((sent - 1 - c) % 3);
      const stored = await hub.api().get<Cluster>(K('clusters'), `c-bad-${c}`, 'p');
      expect(stored.status?.conditions?.find((x) => x.type === 'Ready')?.reason).toBe(`Step${lastOf}`);
    }
    expect(raw.errors().some((e) => e.code === 'RATE_LIMITED' && /coalesced/.test(e.message ?? ''))).toBe(true);
    const after = storeCounts(hub);
    const statusWrites = after.revision - before.revision - (changes - probeChanges);
    // 200 at once, then 20 a second (status-throttle.ts), and one last per cluster.
    expect(sent).toBeGreaterThan(1000);
    expect(statusWrites).toBeLessThanOrEqual(200 + Math.ceil(20 * (seconds + 1)) + 3);
    // 3 clusters' statuses and the probe's Site: a few megabytes at most, not the gigabytes of old.
    expect(dbBytes(hub) - dbBefore).toBeLessThan(20 * 1024 * 1024);

    // The same report again changes nothing: no revision, no change-log or audit row.
    const settled = storeCounts(hub);
    const same = (seq: number) => ({ status: { seq, ref: ref(0), cluster: { phase: 'Creating', conditions: [{ type: 'Ready', status: 'False', reason: `Step${sent - 1 - ((sent - 1) % 3)}` }] } } });
    const next = lastSeq + 1;
    for (let i = 0; i < 100; i++) raw.send(same(next + i));
    await waitFor('the repeats acked', () => raw.frames.some((f) => Number(f.ack?.statusSeq ?? 0) === next + 99), 20_000);
    expect(storeCounts(hub).revision).toBe(settled.revision);

    // Too many conditions, or too large: refused with a reason, nothing written.
    const huge = { seq: next + 100, ref: ref(1), cluster: { conditions: Array.from({ length: 4000 }, (_, i) => ({ type: `T${i}`, status: 'True' })) } };
    raw.send({ status: huge });
    await waitFor('the refusal', () => raw.errors().find((e) => e.code === 'STATUS_TOO_LARGE'));
    expect(raw.errors().find((e) => e.code === 'STATUS_TOO_LARGE')?.message).toMatch(/4000 conditions; at most 64/);
    expect(storeCounts(hub).revision).toBe(settled.revision);

    // The audit log is pruned back within seconds of outgrowing its limit (plus its 100-row slack).
    await waitFor('audit pruned', () => storeCounts(hub).audit <= AUDIT_MAX_ROWS + 100, 15_000, 200);
    raw.close();
  }, 90_000);

  it('refuses Acks above what the connection was sent, and logs a flood of Errors clipped and rate-limited', async () => {
    const logBefore = hub.proc!.stderr.length;
    let raw!: RawAgent;
    await duringAttack(async () => {
      raw = await RawAgent.connect(hub, bad);
      await flood(raw, 2000, 2000, (i) => (i % 2 ? { ack: { revision: 999_999_999_999 } } : { error: { code: 'E'.repeat(1000), message: `m${i} ${'x'.repeat(16 * 1024)}` } }));
    });
    await sleep(500); // the presence table's batch
    expect(await ackedRevision(hub.api(), bad.agentId)).toBeLessThanOrEqual(storeCounts(hub).revision);
    expect(raw.errors().some((e) => e.code === 'INVALID_ACK' && /999999999999 refused/.test(e.message ?? ''))).toBe(true);
    expect(raw.errors().filter((e) => e.code === 'INVALID_ACK').length).toBeLessThan(20);
    const lines = hub.proc!.stderr.slice(logBefore).split('\n').filter((l) => l.includes('agent reported an error'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(6);
    for (const l of lines) expect(l.length).toBeLessThan(2000);
    raw.close();
  }, 60_000);

  it('two agent processes with one identity do not replace each other in a loop, and both logs say why', async () => {
    await duringAttack(async () => expectNoTugOfWar(hub, 'dup', /"replaced":"127\.0\.0\.1:\d+","by":"127\.0\.0\.1:\d+"/));
  }, 60_000);
});

describe('hostile agents, with the gateway spread over processes', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ gatewayProcesses: 2 });
    await hub.apply(site('dup'));
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
  });

  it('two agent processes with one identity do not replace each other in a loop, in one gateway process or across two', async () => {
    // Within one gateway process the address comes with its port; across two, the primary names the processes.
    await expectNoTugOfWar(hub, 'dup', /"replaced":"127\.0\.0\.1(:\d+| \(gateway \d+\))","by":"127\.0\.0\.1(:\d+| \(gateway \d+\))"/);
  }, 60_000);
});

/**
 * Two agents from one data directory (the second a copy, as an operator who cloned a machine makes) run
 * for 10 s: without backoff about 42 replacements in 30 s; with it, the first one and no more for 15 s
 * (a second only if the hub logged the first late). Both sides' logs say what is going on.
 */
async function expectNoTugOfWar(hub: TestHub, siteName: string, bothAddresses: RegExp): Promise<void> {
  const first = await TestAgent.join(hub, { site: siteName }, `${siteName}-first`);
  const copy = new TestAgent(hub, join(hub.dir, `agent-${siteName}-copy`));
  // The whole data directory (identity, state, the agent's SSH key directory), as an operator cloning a disk would.
  cpSync(first.dataDir, copy.dataDir, { recursive: true });
  const logBefore = hub.proc!.stderr.length;
  try {
    first.start();
    copy.start();
    await sleep(10_000);
    const hubLines = hub.proc!.stderr.slice(logBefore).split('\n').filter((l) => l.includes(`"agent":"${first.agentId}"`) && /"replaced":/.test(l));
    expect(hubLines.length).toBeGreaterThanOrEqual(1);
    expect(hubLines.length).toBeLessThanOrEqual(2);
    expect(hubLines[0]).toMatch(bothAddresses);
    const agentLogs = first.proc!.stderr + copy.proc!.stderr;
    expect(agentLogs).toMatch(/another connection with this agent's identity .* replaced it/);
    expect(agentLogs).toMatch(/copy of this data directory, stop it/);
  } finally {
    await Promise.all([first.stop(), copy.stop()]);
  }
}
