// The orchestrator's side of the simulator: spawns worker processes, splits the fleet between them, and
// turns "wait until ..." questions into IPC round trips.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerConfig } from './messages.js';

const WORKER = fileURLToPath(new URL('./sim-worker.ts', import.meta.url));

type Reply = Extract<FromWorker, { id: number }>;
/** A question to a worker, before it gets its id (Omit distributed over the union). */
type Question = ToWorker extends infer U ? (U extends { id: number } ? Omit<U, 'id'> : never) : never;

export interface FleetProgress {
  joined: number;
  connected: number;
  failed: number;
  lastError?: string | undefined;
  /** Dials waiting for their turn in the workers now (their DialGates). */
  dialsQueued: number;
}

export class SimFleet {
  private readonly workers: Array<{ child: ChildProcess; first: number; count: number; progress: FleetProgress }> = [];
  private readonly pending = new Map<number, (r: Reply) => void>();
  private nextId = 1;
  private linkErrors = new Map<string, number>();
  /** The longest a dial waited in a worker's gate since takeMaxDialWait(). */
  private maxDialWaitMs = 0;
  /** The same, since takePhaseMaxDialWait() (the bench reports it per phase). */
  private phaseMaxDialWaitMs = 0;

  constructor(opts: { hubUrl: string; caCertPem: string; tokens: string[]; workers: number; dialsInFlight: number; dir: string; localAddresses: string[]; profileDir?: string | undefined }) {
    const per = Math.ceil(opts.tokens.length / opts.workers);
    for (let w = 0; w < opts.workers; w++) {
      const first = w * per;
      const tokens = opts.tokens.slice(first, first + per);
      if (tokens.length === 0) break;
      // Joins under way per worker: 16, so 7 workers of 16,000 at 100,000 agents keep about the 100 lanes
      // 13 workers of 8 had (each lane waits on a whole HTTPS round trip; fewer would pace the first connect).
      const config: WorkerConfig = { hubUrl: opts.hubUrl, caCertPem: opts.caCertPem, tokens, localAddresses: opts.localAddresses, firstAgent: first, joinConcurrency: 16, dialsInFlight: opts.dialsInFlight, ...(opts.profileDir ? { profileDir: opts.profileDir } : {}) };
      const file = join(opts.dir, `worker-${w}.json`);
      writeFileSync(file, JSON.stringify(config));
      const child = fork(WORKER, [file], { execArgv: ['--import', 'tsx', '--max-old-space-size=8192'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // The kernel shares CPU per process: 13 simulator processes at equal priority would leave the hub's
      // few processes a small share of the two cores. The fleet yields to the hub it measures.
      if (child.pid) setPriority(child.pid, 10);
      const entry = { child, first, count: tokens.length, progress: { joined: 0, connected: 0, failed: 0, dialsQueued: 0 } as FleetProgress };
      child.on('message', (m: FromWorker) => {
        if (m.t === 'progress') {
          entry.progress = m;
          this.maxDialWaitMs = Math.max(this.maxDialWaitMs, m.dialWaitMs);
          this.phaseMaxDialWaitMs = Math.max(this.phaseMaxDialWaitMs, m.dialWaitMs);
          for (const [why, n] of Object.entries(m.errors)) this.linkErrors.set(why, (this.linkErrors.get(why) ?? 0) + n);
        }
        else {
          const done = this.pending.get(m.id);
          this.pending.delete(m.id);
          done?.(m);
        }
      });
      this.workers.push(entry);
    }
  }

  /** Why agents' links failed since the last call, most frequent first. */
  takeLinkErrors(): Array<[string, number]> {
    const out = [...this.linkErrors].sort((a, b) => b[1] - a[1]);
    this.linkErrors = new Map();
    return out;
  }

  /** The longest a dial waited for its turn in a worker since the last call (then counts afresh). */
  takeMaxDialWait(): number {
    const max = this.maxDialWaitMs;
    this.maxDialWaitMs = 0;
    return max;
  }

  takePhaseMaxDialWait(): number {
    const max = this.phaseMaxDialWaitMs;
    this.phaseMaxDialWaitMs = 0;
    return max;
  }

  pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid ? [w.child.pid] : []));
  }

  get size(): number {
    return this.workers.reduce((n, w) => n + w.count, 0);
  }

  progress(): FleetProgress {
    const p = { joined: 0, connected: 0, failed: 0, lastError: undefined as string | undefined, dialsQueued: 0 };
    for (const w of this.workers) {
      p.dialsQueued += w.progress.dialsQueued;
      p.joined += w.progress.joined;
      p.connected += w.progress.connected;
      p.failed += w.progress.failed;
      p.lastError ??= w.progress.lastError;
    }
    return p;
  }

  private ask<T extends Reply>(worker: ChildProcess, msg: Question): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (r: Reply) => void);
      worker.send({ ...msg, id } as ToWorker);
    });
  }

  private owner(agent: number) {
    const w = this.workers.find((x) => agent >= x.first && agent < x.first + x.count);
    if (!w) throw new Error(`no worker holds agent ${agent}`);
    return w;
  }

  /** When every agent holds `revision` (the time the last one acked it). */
  async allReached(revision: number): Promise<number> {
    const replies = await Promise.all(this.workers.map((w) => this.ask<Extract<Reply, { t: 'reached' }>>(w.child, { t: 'await-revision', revision })));
    return Math.max(...replies.map((r) => r.at));
  }

  /** When agent `agent` acked a revision >= `revision`. */
  async agentReached(agent: number, revision: number): Promise<number> {
    return (await this.ask<Extract<Reply, { t: 'reached' }>>(this.owner(agent).child, { t: 'await-revision', revision, agent })).at;
  }

  /** When every agent has connected at least `connects` times and holds `revision`; and the latest single sync. */
  async allReconnected(revision: number, connects: number): Promise<{ at: number; lastSyncAt: number }> {
    const replies = await Promise.all(this.workers.map((w) => this.ask<Extract<Reply, { t: 'reached' }>>(w.child, { t: 'await-reconnect', revision, connectsAtLeast: connects })));
    return { at: Math.max(...replies.map((r) => r.at)), lastSyncAt: Math.max(...replies.map((r) => r.maxAt ?? r.at)) };
  }

  async stats(): Promise<{ connected: number; synced: number; minConnects: number; warnings: number; connects: number; resumed: number; stalledMs: number; maxStallMs: number; silentCloses: number; maxSilentCloses: number; shedRefusals: number; minRevision: number; maxRevision: number }> {
    const replies = await Promise.all(this.workers.map((w) => this.ask<Extract<Reply, { t: 'stats' }>>(w.child, { t: 'stats' })));
    return {
      connected: replies.reduce((n, r) => n + r.connected, 0),
      synced: replies.reduce((n, r) => n + r.synced, 0),
      minConnects: Math.min(...replies.map((r) => r.minConnects)),
      warnings: replies.reduce((n, r) => n + r.warnings, 0),
      connects: replies.reduce((n, r) => n + r.connects, 0),
      resumed: replies.reduce((n, r) => n + r.resumed, 0),
      stalledMs: Math.max(...replies.map((r) => r.stalledMs)),
      maxStallMs: Math.max(...replies.map((r) => r.maxStallMs)),
      silentCloses: replies.reduce((n, r) => n + r.silentCloses, 0),
      maxSilentCloses: Math.max(...replies.map((r) => r.maxSilentCloses)),
      shedRefusals: replies.reduce((n, r) => n + r.shedRefusals, 0),
      minRevision: Math.min(...replies.map((r) => r.minRevision)),
      maxRevision: Math.max(...replies.map((r) => r.maxRevision)),
    };
  }

  /** Every agent's last sync time. */
  async syncedTimes(): Promise<number[]> {
    const replies = await Promise.all(this.workers.map((w) => this.ask<Extract<Reply, { t: 'synced-times' }>>(w.child, { t: 'synced-times' })));
    return replies.flatMap((r) => r.times);
  }

  /** Every agent closes its hub link for good (before the echo baseline, which needs the memory). */
  async stopLinks(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ask(w.child, { t: 'stop-links' })));
  }

  /** Starts or stops (and writes) a CPU profile in every worker. */
  async profile(on: boolean): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ask(w.child, { t: 'profile', on })));
  }

  async echoConnect(url: string): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ask(w.child, { t: 'echo-connect', url })));
  }

  async echoRtt(agent: number): Promise<number> {
    return (await this.ask<Extract<Reply, { t: 'rtt' }>>(this.owner(agent).child, { t: 'echo-rtt', agent })).ms;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.send({ t: 'stop' } as ToWorker);
            setTimeout(() => w.child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}
