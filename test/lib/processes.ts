// Real hub and agent processes for tests: started from the built CLIs, on loopback, in their own temp
// directories, always killed and removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '@outpost/hub';
import { freePort } from './ports.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const OUTPOST = join(ROOT, 'hub/bin/outpost.js');
export const OUTPOST_AGENT = join(ROOT, 'agent/bin/outpost-agent.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI to completion. */
export function run(bin: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}


export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A long-running child whose output is kept for assertions and diagnosis. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

/** `nofile` lowers the child's descriptor limit (`ulimit -n`): the shell sets it and then becomes node. */
function startProc(bin: string, args: readonly string[], env?: NodeJS.ProcessEnv, nodeArgs: readonly string[] = [], nofile?: number): Proc {
  const argv = [...nodeArgs, bin, ...args];
  const [file, fileArgs] = nofile ? ['/bin/sh', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, process.execPath, ...argv]] : [process.execPath, argv];
  return new Proc(spawn(file, fileArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export class TestHub {
  proc: Proc | undefined;
  readonly dir: string;
  readonly dataDir: string;
  port = 0;
  caHash = '';
  adminToken = '';
  caCertPem = '';
  env: NodeJS.ProcessEnv | undefined;
  /** Flags for the hub's node, such as --cpu-prof for profiling. */
  nodeArgs: string[] = [];
  /** `outpost hub serve --gateway-processes N`; 0 serves agents in the hub process. */
  gatewayProcesses = 0;
  /** More `outpost hub serve` flags. */
  serveArgs: string[] = [];
  /** The hub process's descriptor limit (`ulimit -n`), when lower than the test's. */
  nofile: number | undefined;
  /** How long serve() waits for the hub to listen (a store seeded with 100,000 agents takes longer). */
  listenTimeoutMs = 20_000;

  private constructor(private readonly heartbeatMs: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'outpost-it-'));
    this.dataDir = join(this.dir, 'hub');
  }

  /** `beforeServe` runs after `hub init` and before the hub process starts (to seed its store). */
  static async start(opts: { heartbeatMs?: number; beforeServe?: (dataDir: string) => void; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; gatewayProcesses?: number; serveArgs?: string[]; nofile?: number; listenTimeoutMs?: number } = {}): Promise<TestHub> {
    const hub = new TestHub(opts.heartbeatMs ?? 1000);
    const init = await run(OUTPOST, ['hub', 'init', '--data', hub.dataDir]);
    if (init.code !== 0) throw new Error(`hub init failed: ${init.stderr}`);
    hub.caHash = /CA hash:\s+(\S+)/.exec(init.stdout)?.[1] ?? '';
    hub.adminToken = readFileSync(join(hub.dataDir, 'admin.token'), 'utf8').trim();
    hub.caCertPem = readFileSync(join(hub.dataDir, 'ca.crt'), 'utf8');
    opts.beforeServe?.(hub.dataDir);
    hub.env = opts.env;
    hub.nodeArgs = opts.nodeArgs ?? [];
    hub.gatewayProcesses = opts.gatewayProcesses ?? 0;
    hub.serveArgs = opts.serveArgs ?? [];
    hub.nofile = opts.nofile;
    if (opts.listenTimeoutMs) hub.listenTimeoutMs = opts.listenTimeoutMs;
    hub.port = await freePort();
    try {
      await hub.serve();
    } catch (err) {
      // A hub that did not come up leaves neither its process nor its directory behind.
      await hub.stop();
      throw err;
    }
    return hub;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the hub process on the same port and data. */
  async serve(): Promise<void> {
    const proc = startProc(OUTPOST, ['hub', 'serve', '--data', this.dataDir, '--listen', `127.0.0.1:${this.port}`, '--heartbeat', String(this.heartbeatMs), '--gateway-processes', String(this.gatewayProcesses), '--log-level', 'warn', ...this.serveArgs], this.env, this.nodeArgs, this.nofile);
    this.proc = proc;
    await waitFor('the hub to listen', () => proc.stdout.includes('listening on') || (!proc.alive && Promise.reject(new Error(`hub exited: ${proc.stderr}`))), this.listenTimeoutMs);
  }

  api(token = this.adminToken, httpsAgent?: import('node:https').Agent): ApiClient {
    return new ApiClient({ hub: this.url, token, caCertPem: this.caCertPem, timeoutMs: 10_000, ...(httpsAgent ? { httpsAgent } : {}) });
  }

  async apply(...objects: object[]): Promise<void> {
    const api = this.api();
    for (const o of objects) await api.create(o as never);
  }

  /** `outpost login` as the admin into a CLI config of this hub's own; returns the env that selects it (OUTPOST_CONFIG). */
  async loginCli(): Promise<NodeJS.ProcessEnv> {
    const env = { OUTPOST_CONFIG: join(this.dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', this.url, '--token-file', join(this.dataDir, 'admin.token'), '--ca-file', join(this.dataDir, 'ca.crt')], { env });
    if (login.code !== 0) throw new Error(`outpost login failed: ${login.stderr}`);
    return env;
  }

  async bootstrapToken(target: { site?: string; seed?: string }, ttl = '1h'): Promise<string> {
    const t = await this.api().create<{ status: { token: string } }>({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: {}, spec: { type: 'bootstrap', ...target, ttl } } as never);
    return t.status.token;
  }

  /** SIGTERM, and SIGKILL after `graceMs`: a hub an attack has wedged must not outlive its test. */
  async stop(graceMs = 15_000): Promise<void> {
    const proc = this.proc;
    if (proc) {
      const killer = setTimeout(() => void proc.kill('SIGKILL'), graceMs);
      await proc.kill('SIGTERM');
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class TestAgent {
  proc: Proc | undefined;

  constructor(
    readonly hub: TestHub,
    readonly dataDir: string,
  ) {}

  static async join(hub: TestHub, target: { site?: string; seed?: string }, name: string): Promise<TestAgent> {
    const agent = new TestAgent(hub, join(hub.dir, `agent-${name}`));
    const token = await hub.bootstrapToken(target);
    const r = await run(OUTPOST_AGENT, ['join', '--hub', hub.url, '--token', token, '--ca-hash', hub.caHash, '--data', agent.dataDir]);
    if (r.code !== 0) throw new Error(`agent join failed: ${r.stderr}`);
    return agent;
  }

  get agentId(): string {
    return (JSON.parse(readFileSync(join(this.dataDir, 'identity.json'), 'utf8')) as { agentId: string }).agentId;
  }

  /**
   * `outpost-agent run`, with more flags (such as --log-level) when given; a seed's agent with
   * `kubeconfig` (its --kubeconfig). `env` is added to the process's environment.
   */
  start(args: readonly string[] = [], opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv } = {}): this {
    const kubeconfig = opts.kubeconfig !== undefined ? ['--kubeconfig', opts.kubeconfig] : [];
    this.proc = startProc(OUTPOST_AGENT, ['run', '--data', this.dataDir, ...kubeconfig, ...args], opts.env);
    return this;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.kill(signal);
  }
}

/** A process and its descendants (a hub and its gateway processes), from /proc. */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // gone already
  }
  return [pid, ...children.flatMap(processTree)];
}
