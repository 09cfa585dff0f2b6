// One scale run: a real hub process on a seeded store, a simulated fleet in worker processes, and the
// measurements of issue 4. The bench prints them; the smoke test checks the correctness half.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent as HttpsAgent, request, type AgentOptions } from 'node:https';
import { join } from 'node:path';
import { SESSION_RECORD_ENV, type SessionRecordFile } from '@outpost/hub';
import { findKind, type ResourceObject } from '@outpost/proto';
import { Proc, processTree, TestHub, waitFor } from '../../lib/processes.js';
import { clusterName, seedFleet } from './fleet.js';
import { fdCount, procStat, sizeMiB, treeStat } from './proc-stats.js';
import { SimFleet } from './sim-fleet.js';

export interface ScaleOptions {
  agents: number;
  workers?: number;
  heartbeatMs?: number;
  /** Source addresses to spread over; enough that each carries < 25,000 connections per peer port. */
  sourceAddresses?: number;
  log?: (line: string) => void;
  /** Flags for the hub's node process, such as ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  hubNodeArgs?: string[];
  /** Profiles the simulator's workers through the reconnect storm into this directory. */
  fleetProfileDir?: string;
  /** `--gateway-processes` of the hub (and processes of the echo baseline). Default: one per 15,000 agents above 15,000. */
  gatewayProcesses?: number;
  /** Hub dials under way at once per simulator worker (the agent's DialGate). Default DIALS_IN_FLIGHT. */
  dialsInFlight?: number;
  /** More `outpost hub serve` flags. */
  hubServeArgs?: string[];
}

/**
 * Per simulator worker: enough that the hub's admission, not this gate, holds the queue (7 workers at
 * 100,000 agents have 1,400 dials out against the hub's 1,000 handshakes per gateway process), few
 * enough that a worker's loop turns over its dials' TLS work in tens of milliseconds, as an agent's own
 * machine would.
 */
export const DIALS_IN_FLIGHT = 200;

/**
 * Agents per simulator worker. A worker holds one socket per agent (the links are stopped before the
 * echo baseline opens its own) under this machine's 20,000 descriptor limit; fewer, fuller workers
 * cost less CPU and memory than many small ones (the issue: as few processes as the limit allows).
 */
export const AGENTS_PER_SIM_WORKER = 16_000;

/** Each process may hold 20,000 descriptors here: a gateway process carries at most this many agents. */
export const AGENTS_PER_GATEWAY = 15_000;

export function defaultGatewayProcesses(agents: number): number {
  return agents > AGENTS_PER_GATEWAY ? Math.ceil(agents / AGENTS_PER_GATEWAY) : 0;
}

const K = (n: string) => findKind(n)!;
/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Log lines (pino JSON or plain) counted by message, in first-seen order. */
function countedMessages(text: string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    let msg = line;
    try {
      msg = (JSON.parse(line) as { msg?: string }).msg ?? line;
    } catch {
      // not a pino line
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts];
}

/** One point of the series the bench writes (and `--plot` draws): seconds since the run began. */
export interface SeriesPoint {
  t: number;
  phase: string;
  connected: number;
  hubCpuPercent: number;
  fleetCpuPercent: number;
}

export class ScaleRun {
  fleet!: SimFleet;
  readonly series: SeriesPoint[] = [];
  private readonly runStartedAt = Date.now();
  phase = 'connect';
  private baselineRss = 0;
  private readonly api;
  // Nagle off: a request whose headers and body leave in two TLS records otherwise waits for the server's
  // delayed ACK, and a sample measured that (12-20 ms at p50 on the bare server) instead of the server.
  // The agent hands its options to net.connect, which takes noDelay; @types/node's AgentOptions lacks it.
  private readonly keepAlive = new HttpsAgent({ keepAlive: true, maxSockets: 4, noDelay: true } as AgentOptions & { noDelay: boolean });
  private readonly log: (line: string) => void;

  private constructor(
    readonly hub: TestHub,
    readonly tokens: string[],
    private readonly opts: ScaleOptions,
    private readonly recordDir: string,
  ) {
    this.api = hub.api(undefined, this.keepAlive);
    this.log = opts.log ?? (() => undefined);
  }

  static async prepare(opts: ScaleOptions): Promise<ScaleRun> {
    let tokens: string[] = [];
    let seededAt = 0;
    const gatewayProcesses = opts.gatewayProcesses ?? defaultGatewayProcesses(opts.agents);
    // The hub's own record of Welcomes and Acks (hub/src/gateway/session-record.ts): what the figures are timed from.
    const recordDir = mkdtempSync(join(tmpdir(), 'outpost-sessions-'));
    // A store just seeded with 100,000 agents took over 20 s to its first listen (5 s on a restart).
    let hub: TestHub;
    try {
      hub = await TestHub.start({ heartbeatMs: opts.heartbeatMs ?? 15_000, gatewayProcesses, listenTimeoutMs: Math.max(20_000, opts.agents * 2), ...(opts.hubServeArgs ? { serveArgs: opts.hubServeArgs } : {}), env: { [SESSION_RECORD_ENV]: recordDir }, beforeServe: (dir) => {
        tokens = seedFleet(dir, opts.agents);
        seededAt = Date.now();
      }, ...(opts.hubNodeArgs ? { nodeArgs: opts.hubNodeArgs } : {}) });
    } catch (err) {
      rmSync(recordDir, { recursive: true, force: true });
      throw err;
    }
    opts.log?.(`  hub listening ${((Date.now() - seededAt) / 1000).toFixed(1)} s after its store was seeded`);
    const run = new ScaleRun(hub, tokens, opts, recordDir);
    await sleep(500);
    run.baselineRss = treeStat(hub.proc!.child.pid!).rssBytes;
    return run;
  }

  get hubPid(): number {
    return this.hub.proc!.child.pid!;
  }

  /**
   * CPU seconds of the hub's processes and of the fleet's between laps; a hub restarted in between counts
   * from its start.
   */
  private cpuMeter(): () => { hub: number; fleet: number; seconds: number } {
    const sample = () => ({ at: Date.now(), hubPid: this.hubPid, hub: treeStat(this.hubPid).cpuTicks, fleet: this.fleet.pids().reduce((n, pid) => n + treeStat(pid).cpuTicks, 0) });
    let last = sample();
    return () => {
      const now = sample();
      const lap = { hub: (now.hub - (now.hubPid === last.hubPid ? last.hub : 0)) / 100, fleet: (now.fleet - last.fleet) / 100, seconds: (now.at - last.at) / 1000 };
      last = now;
      return lap;
    };
  }

  /**
   * Logs every `everyMs` during a storm that began at `startedAt`: agents connected, CPU of the hub's
   * processes and of the fleet's over the interval, descriptors per hub process (how evenly the kernel
   * spreads accepts), why agents' dials failed, and the hub's warnings.
   */
  private monitor(startedAt: number, everyMs = 5000): () => void {
    const cpu = this.cpuMeter();
    let stderrSeen = this.hub.proc!.stderr.length;
    const timer = setInterval(() => {
      const lap = cpu();
      const pct = (cpuSeconds: number) => Math.round((cpuSeconds / lap.seconds) * 100);
      const p = this.fleet.progress();
      const fds = processTree(this.hubPid).map(fdCount).join('/');
      const stderr = this.hub.proc!.stderr;
      const warned = countedMessages(stderr.slice(stderrSeen)).map(([m, n]) => `; hub: ${m.slice(0, 120)} ×${n}`).join('');
      stderrSeen = stderr.length;
      const failures = this.fleet.takeLinkErrors().slice(0, 4).map(([why, n]) => `; agents: ${why.slice(0, 100)} ×${n}`).join('');
      this.series.push({ t: Math.round((Date.now() - this.runStartedAt) / 100) / 10, phase: this.phase, connected: p.connected, hubCpuPercent: pct(lap.hub), fleetCpuPercent: pct(lap.fleet) });
      const dialWait = this.fleet.takeMaxDialWait();
      const gate = p.dialsQueued || dialWait ? `; dials waiting in the simulator ${p.dialsQueued} (longest wait ${dialWait} ms)` : '';
      this.log(`  ${Math.round((Date.now() - startedAt) / 1000)} s: joined ${p.joined}, connected ${p.connected}, failed ${p.failed}; CPU hub ${pct(lap.hub)} %, fleet ${pct(lap.fleet)} %; hub fds ${fds}${gate}${p.lastError ? ` (last join error: ${p.lastError})` : ''}${failures}${warned}`);
    }, everyMs);
    return () => clearInterval(timer);
  }

  /** Starts the fleet; resolves with the seconds until every agent joined, connected and synced. */
  async connectAll(timeoutMs: number): Promise<number> {
    const started = Date.now();
    this.startFleet();
    const stopMonitor = this.monitor(started);
    // A join refused for good fails the run at once (waitFor would retry it until the time limit).
    let refused: Error | undefined;
    await waitFor(
      'every agent connected and synced',
      async () => {
        const p = this.fleet.progress();
        if (p.failed > 0) refused = new Error(`${p.failed} agents could not join: ${p.lastError}`);
        if (refused) return true;
        if (p.connected < this.tokens.length) return false;
        const s = await this.fleet.stats();
        return s.synced === this.tokens.length;
      },
      timeoutMs,
      200,
    ).finally(stopMonitor);
    if (refused) throw refused;
    return (Date.now() - started) / 1000;
  }

  /** Starts the simulated fleet: every agent joins, then dials the hub, and keeps at it. */
  startFleet(): void {
    // Without a port, bind() to a source address picks a port unique to that address whatever the peer,
    // so hub, echo and join sockets (and joins' TIME_WAIT) share its ~28,000 ephemeral ports.
    const sources = this.opts.sourceAddresses ?? Math.max(1, Math.ceil(this.opts.agents / 5_000));
    const localAddresses = Array.from({ length: sources }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
    const workers = this.opts.workers ?? Math.max(1, Math.ceil(this.opts.agents / AGENTS_PER_SIM_WORKER));
    this.fleet = new SimFleet({ hubUrl: this.hub.url, caCertPem: this.hub.caCertPem, tokens: this.tokens, workers, dialsInFlight: this.opts.dialsInFlight ?? DIALS_IN_FLIGHT, dir: this.hub.dir, localAddresses, profileDir: this.opts.fleetProfileDir });
  }

  hubMemory(): { hubRssBytes: number; bytesPerAgent: number; perProcessMiB: number[] } {
    const rss = treeStat(this.hubPid).rssBytes;
    // The primary first, then each gateway process: where the memory sits.
    const perProcessMiB = processTree(this.hubPid).map((pid) => Math.round(procStat(pid).rssBytes / 2 ** 20));
    return { hubRssBytes: rss, bytesPerAgent: Math.round((rss - this.baselineRss) / this.tokens.length), perProcessMiB };
  }

  async idleCpuPercent(seconds: number): Promise<number> {
    const cpu = this.cpuMeter();
    await sleep(seconds * 1000);
    const lap = cpu();
    return (lap.hub / lap.seconds) * 100;
  }

  /**
   * One cluster changed through the admin API -> its agent's ack, `samples` times, one at a time. Timed
   * to the hub's receipt of the Ack (its session record), and, for comparison, to the agent's own clock.
   */
  async changeLatencies(samples: number): Promise<{ hub: number[]; fleet: number[]; last: ResourceObject }> {
    const fleet: number[] = [];
    let last: ResourceObject | undefined;
    const asked: Array<{ started: number; revision: number }> = [];
    for (let s = 0; s < samples; s++) {
      const i = Math.floor(Math.random() * this.tokens.length);
      const started = preciseNow();
      const updated = await this.api.patch(K('clusters'), clusterName(i), { metadata: { labels: { sample: String(s) } } }, 'fleet');
      last = updated;
      const revision = Number(updated.metadata.resourceVersion);
      const ackedAt = await this.fleet.agentReached(i, revision);
      fleet.push(ackedAt - started);
      asked.push({ started, revision });
    }
    // Samples go one at a time and only the changed cluster's agent is poked: the first Ack at or past a
    // sample's revision after it started is that agent's.
    const acks = Object.values((await this.hubSessions()).acks).flat().sort((a, b) => a[1] - b[1]);
    let k = 0;
    const hub: number[] = [];
    for (const { started, revision } of asked) {
      while (k < acks.length && acks[k]![1] < started) k++;
      let j = k;
      while (j < acks.length && acks[j]![0] < revision) j++;
      if (j < acks.length) hub.push(acks[j]![1] - started);
    }
    if (!last) throw new Error('changeLatencies needs at least one sample');
    return { hub: hub.sort((a, b) => a - b), fleet: fleet.sort((a, b) => a - b), last };
  }

  /** When the hub first received an Ack at or past `revision` from each agent, after `since` (epoch ms). */
  private async firstAcks(revision: number, since: number): Promise<number[]> {
    const record = await this.hubSessions();
    return Object.values(record.acks).map((list) => Math.min(...list.filter(([r, at]) => r >= revision && at >= since).map(([, at]) => at)));
  }

  /** A change in every agent's view (a new Release) -> every agent acked it. */
  async fleetRolloutSeconds(version: string): Promise<{ seconds: number; hubSeconds: number; hubCpuSeconds: number; fleetCpuSeconds: number }> {
    const cpu = this.cpuMeter();
    const started = preciseNow();
    const rel = await this.api.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: version }, spec: { version } });
    const revision = Number(rel.metadata.resourceVersion);
    const last = await this.fleet.allReached(revision);
    const lap = cpu();
    // The hub's side: the last of the fleet's Acks of the release, as the hub received them.
    const hubLast = Math.max(...(await this.firstAcks(revision, started)));
    return { seconds: (last - started) / 1000, hubSeconds: (hubLast - started) / 1000, hubCpuSeconds: lap.hub, fleetCpuSeconds: lap.fleet };
  }

  /**
   * kill -9 the hub, start it again, until every agent is back and resynced. Also the hub's global
   * revision before the kill and once all are back: presence takes no revision, so they must be equal.
   */
  async killAndReconnect(timeoutMs: number, killAgain?: { whenConnected: number }): Promise<{ reconnectSeconds: number; hubWelcomeP99Seconds: number; hubLastWelcomeSeconds: number; p99Seconds: number; maxAgentReconnectSeconds: number; resumedShare: number; hubCpuSeconds: number; fleetCpuSeconds: number; revisionBeforeReconnect: number; revisionAfterReconnect: number }> {
    const before = await this.fleet.stats();
    const revisionBeforeReconnect = await this.revision();
    let cpu = this.cpuMeter();
    if (this.opts.fleetProfileDir) await this.fleet.profile(true);
    const wal = join(this.hub.dataDir, 'hub.db-wal');
    this.log(`  hub.db ${sizeMiB(join(this.hub.dataDir, 'hub.db'))} MiB, WAL ${sizeMiB(wal)} MiB before the kill`);
    let killedAt = await this.killAndRestart();
    let stopMonitor = this.monitor(killedAt);
    if (killAgain) {
      // Killed again in the middle of the storm: some agents back, most not. Timed from the second kill.
      await waitFor('agents coming back before the second kill', async () => (this.fleet.progress().connected >= killAgain.whenConnected ? true : undefined), timeoutMs, 100).finally(stopMonitor);
      this.log(`  ${this.fleet.progress().connected} agents back: killing the hub again`);
      killedAt = await this.killAndRestart();
      // Both sides' CPU from the second restart on.
      cpu = this.cpuMeter();
      stopMonitor = this.monitor(killedAt);
    }
    const version = await this.revision();
    const done = await Promise.race([
      this.fleet.allReconnected(version, before.minConnects + 1),
      sleep(timeoutMs).then(() => Promise.reject(new Error(`agents not all back within ${timeoutMs} ms`))),
    ]).finally(stopMonitor);
    // CPU the storm cost each side: the restarted hub's processes from their start, and the fleet's.
    const { hub: hubCpuSeconds, fleet: fleetCpuSeconds } = cpu();
    if (this.opts.fleetProfileDir) await this.fleet.profile(false);
    const times = (await this.fleet.syncedTimes()).map((t) => (t - killedAt) / 1000).sort((a, b) => a - b);
    const after = await this.fleet.stats();
    const resumedShare = (after.resumed - before.resumed) / Math.max(1, after.connects - before.connects);
    // Past the presence flush (250 ms) and the agents' last acks: a write they caused would show here.
    await sleep(2000);
    const revisionAfterReconnect = await this.revision();
    this.log(`  revision before the kill ${revisionBeforeReconnect}, after the reconnect ${revisionAfterReconnect}`);
    // The hub's side: when it sent each agent its first Welcome after the kill.
    const welcomes = Object.values((await this.hubSessions()).welcomes)
      .map((list) => Math.min(...list.filter((at) => at >= killedAt)))
      .map((at) => (at - killedAt) / 1000)
      .sort((a, b) => a - b);
    return { reconnectSeconds: (done.at - killedAt) / 1000, hubWelcomeP99Seconds: percentile(welcomes, 99), hubLastWelcomeSeconds: welcomes.at(-1) ?? NaN, p99Seconds: percentile(times, 99), maxAgentReconnectSeconds: times.at(-1) ?? NaN, resumedShare, hubCpuSeconds, fleetCpuSeconds, revisionBeforeReconnect, revisionAfterReconnect };
  }

  /** kill -9 of the whole hub (primary and gateway processes alike), then started again; when it was killed. */
  async killAndRestart(): Promise<number> {
    const killedAt = Date.now();
    const pids = processTree(this.hubPid);
    for (const pid of pids.slice(1)) process.kill(pid, 'SIGKILL');
    // A stopped process (the storm test's duty cycling) dies of SIGKILL too.
    await this.hub.proc!.kill('SIGKILL');
    this.log(`  hub killed (${((Date.now() - killedAt) / 1000).toFixed(1)} s)`);
    await this.hub.serve();
    this.log(`  hub listening again (${((Date.now() - killedAt) / 1000).toFixed(1)} s)`);
    return killedAt;
  }

  /** Every agent connected at least `connects` times, connected now and holding the hub's revision. */
  async reconnected(connects: number, timeoutMs: number): Promise<{ seconds: number }> {
    const started = Date.now();
    const stopMonitor = this.monitor(started, 2000);
    const version = await this.revision();
    await Promise.race([
      this.fleet.allReconnected(version, connects),
      sleep(timeoutMs).then(() => Promise.reject(new Error(`agents not all back within ${timeoutMs} ms: ${JSON.stringify(this.fleet.progress())}`))),
    ]).finally(stopMonitor);
    return { seconds: (Date.now() - started) / 1000 };
  }

  /** Polls `check` until true, with the storm monitor's lines meanwhile. */
  async waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const stopMonitor = this.monitor(Date.now(), 2000);
    await waitFor('condition', async () => ((await check()) ? true : undefined), timeoutMs, 100).finally(stopMonitor);
  }

  async hubRevision(): Promise<number> {
    return this.revision();
  }

  /** The hub's global revision. */
  private async revision(): Promise<number> {
    return (await this.api.call<{ revision: number }>('GET', '/version')).revision;
  }

  /**
   * The same N connections to a bare ws echo server over the same TLS, and its round trip. The last
   * step of a run: the agents' links and the hub are stopped first, so the two fleets of N sockets are
   * never in memory together (at 100,000 each takes ~6 GiB, beside the simulator's ~8 GiB, in 24 GiB).
   */
  /**
   * The bare servers' figures (baseline-server.ts), with the fleet's N connections held: RSS per
   * connection, echo round trips, and `samples` changes doing a change's full work one at a time, each
   * timed as the hub's are, from before the write to the server's receipt of the Ack. `template` is an
   * object as the hub served it, so the write and the Changes carry the same bytes.
   */
  async baseline(samples: number, template: ResourceObject): Promise<{ rtts: number[]; bytesPerConnection: number; changes: number[] }> {
    await this.fleet.stopLinks();
    const revision = await this.hubRevision();
    await this.hub.proc!.kill('SIGTERM');
    const db = join(this.recordDir, 'baseline.db');
    const args = [join(this.hub.dataDir, 'hub.crt'), join(this.hub.dataDir, 'hub.key'), String(this.hub.gatewayProcesses), db, String(revision + 1)];
    const server = new Proc(spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'baseline-server.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      const [port, apiPort] = await waitFor('baseline server', () => /baseline listening on (\d+) api (\d+)/.exec(server.stdout)?.slice(1));
      await sleep(500);
      const idleRss = treeStat(server.child.pid!).rssBytes;
      await this.fleet.echoConnect(`wss://127.0.0.1:${port}/`);
      await sleep(5000);
      // Measured as the hub's bytesPerAgent is: RSS growth of the server's process tree per connection.
      const bytesPerConnection = Math.round((treeStat(server.child.pid!).rssBytes - idleRss) / this.tokens.length);
      const rtts: number[] = [];
      for (let s = 0; s < samples; s++) rtts.push(await this.fleet.echoRtt(Math.floor(Math.random() * this.tokens.length)));
      const asked: Array<{ agent: number; started: number; revision: number }> = [];
      for (let s = 0; s < samples; s++) {
        const agent = Math.floor(Math.random() * this.tokens.length);
        const body = { ...template, metadata: { ...template.metadata, name: clusterName(agent), labels: { ...template.metadata.labels, sample: String(s) } } };
        const started = preciseNow();
        const written = JSON.parse(await this.https('PUT', Number(apiPort), `/agents/${agent}`, JSON.stringify(body))) as ResourceObject;
        const at = Number(written.metadata.resourceVersion);
        await this.fleet.agentReached(agent, at);
        asked.push({ agent, started, revision: at });
      }
      const acks = JSON.parse(await this.https('GET', Number(apiPort), '/acks')) as Array<[number, number, number]>;
      const changes = asked.flatMap(({ agent, started, revision: r }) => {
        const ack = acks.filter(([a, rev, t]) => a === agent && rev >= r && t >= started).sort((x, y) => x[2] - y[2])[0];
        return ack ? [ack[2] - started] : [];
      });
      return { rtts: rtts.sort((a, b) => a - b), bytesPerConnection, changes: changes.sort((a, b) => a - b) };
    } finally {
      await server.kill('SIGKILL');
    }
  }

  /** One request to the baseline server's API, over the run's kept-alive connections. */
  private https(method: 'GET' | 'PUT', port: number, path: string, body?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent: this.keepAlive, ca: this.hub.caCertPem, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`baseline ${method} ${path}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * The hub's record of every session (Welcome and Ack times by agent), from each process that serves
   * agents: asked for with SIGUSR2, merged. Read between phases, never during one.
   */
  async hubSessions(): Promise<SessionRecordFile> {
    const pids = this.hub.gatewayProcesses > 0 ? processTree(this.hubPid).slice(1) : [this.hubPid];
    const files = pids.map((pid) => join(this.recordDir, `sessions-${pid}.json`));
    // Removed first and waited for anew: file times are coarser than the clock, so "newer than asked" misleads.
    for (const f of files) rmSync(f, { force: true });
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    await waitFor(`the session records of hub processes ${pids.join(', ')} in ${this.recordDir}`, () => files.every((f) => existsSync(f)), 30_000, 50);
    const merged: SessionRecordFile = { welcomes: {}, acks: {} };
    for (const f of files) {
      const r = JSON.parse(readFileSync(f, 'utf8')) as SessionRecordFile;
      for (const [agent, list] of Object.entries(r.welcomes)) (merged.welcomes[agent] ??= []).push(...list);
      for (const [agent, list] of Object.entries(r.acks)) (merged.acks[agent] ??= []).push(...list);
    }
    return merged;
  }

  async stop(): Promise<void> {
    await this.fleet?.stop();
    this.keepAlive.destroy();
    await this.hub.stop();
    rmSync(this.recordDir, { recursive: true, force: true });
  }
}
