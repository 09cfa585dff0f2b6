// A test host's service manager, standing in for systemd (the machine has no systemd to lend a host): one
// process per host, started inside the host's namespaces, that reads ordinary unit files from the host's
// private /etc/systemd/system and runs their services as systemd would: each in a cgroup of its own under
// the host's, restarted by its Restart= policy, stopped by its KillMode=, its output in a log file.
// `systemctl` and `journalctl` in the host (systemctl.ts) ask it over a unix socket, one JSON line each
// way: the request `{argv}`, the answer `{out, err, code}`.
//
// Run: node --import tsx supervisor.ts CONFIG.json
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { alive } from '../world-state.js';
import { SUPERVISOR_COMM, type Reply, type SupervisorConfig } from './protocol.js';
import { execCommand, mergeUnitFiles, parseEnvironmentFile, parseUnitFile, serviceUnit, shouldRestart, UnitError, type ServiceUnit } from './units.js';

type ActiveState = 'inactive' | 'activating' | 'active' | 'deactivating' | 'failed';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Service {
  state: ActiveState = 'inactive';
  sub = 'dead';
  main: ChildProcess | undefined;
  mainPid = 0;
  since = new Date();
  restarts = 0;
  result = 'success';
  /** When it was started within the current StartLimitIntervalSec=. */
  starts: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  /** Bumped by every start and stop, so an exit or a timer of an older run does nothing. */
  private run = 0;
  /** Operations on one service run one after another, as systemd queues jobs. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly manager: Manager,
  ) {}

  enqueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private set(state: ActiveState, sub: string): void {
    this.state = state;
    this.sub = sub;
    this.since = new Date();
  }

  private log(line: string): void {
    this.manager.journal(this.name, `systemd[supervisor]: ${line}`);
  }

  /** The cgroup directories of this service, one per controller (made on demand). */
  cgroupDirs(): string[] {
    return this.manager.controllers().map((c) => join(this.manager.config.cgroupRoot, c, 'system.slice', this.name));
  }

  cgroupPids(): number[] {
    const pids = new Set<number>();
    for (const d of this.cgroupDirs()) {
      try {
        for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
      } catch {
        // not made yet
      }
    }
    return [...pids].filter(alive);
  }

  private environment(unit: ServiceUnit): Record<string, string> {
    const env: Record<string, string> = { PATH, LANG: 'C.UTF-8', ...unit.environment };
    for (const f of unit.environmentFiles) {
      if (!existsSync(f.path)) {
        if (f.optional) continue;
        throw new UnitError(`${this.name}: EnvironmentFile ${f.path} does not exist (write it, or mark it optional with "-")`);
      }
      Object.assign(env, parseEnvironmentFile(readFileSync(f.path, 'utf8')));
    }
    return env;
  }

  /** Spawns a command in the service's cgroup: a shell writes itself into every controller's cgroup.procs, then execs. */
  private spawnInCgroup(argv: string[], env: Record<string, string>, cwd: string): ChildProcess {
    for (const d of this.cgroupDirs()) this.manager.makeCgroupDir(d);
    const log = openSync(this.manager.logFile(this.name), 'a');
    const procs = this.cgroupDirs().map((d) => join(d, 'cgroup.procs')).join(' ');
    // 219 is systemd's EXIT_CGROUP
    const script = 'for f in $OUTPOST_CGROUP_PROCS; do echo $$ > "$f" || exit 219; done; unset OUTPOST_CGROUP_PROCS; exec "$@"';
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...argv], { cwd, env: { ...env, OUTPOST_CGROUP_PROCS: procs }, stdio: ['ignore', log, log] });
    closeSync(log);
    return child;
  }

  private runToEnd(argv: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; signal: string | null }> {
    return new Promise((resolve) => {
      const child = this.spawnInCgroup(argv, env, cwd);
      child.once('error', () => resolve({ code: 203, signal: null })); // 203: EXIT_EXEC
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** One start: ExecStartPre= in order, then ExecStart=; the main process is watched for Restart=. */
  async start(): Promise<Reply> {
    if (this.state === 'active' || (this.state === 'activating' && this.sub !== 'auto-restart')) return ok();
    clearTimeout(this.restartTimer);
    let unit: ServiceUnit;
    let env: Record<string, string>;
    try {
      unit = this.manager.unit(this.name);
      env = this.environment(unit);
    } catch (err) {
      this.set('failed', 'failed');
      this.result = 'resources';
      this.log(`Failed to start ${this.name}: ${(err as Error).message}`);
      return fail(1, `Job for ${this.name} failed: ${(err as Error).message}\n`);
    }
    // systemd's start rate limit: a unit that keeps failing stops being started (until reset-failed)
    const now = Date.now();
    this.starts = this.starts.filter((t) => now - t < unit.startLimitIntervalMs);
    if (unit.startLimitIntervalMs > 0 && unit.startLimitBurst > 0 && this.starts.length >= unit.startLimitBurst) {
      this.run++;
      this.set('failed', 'failed');
      this.result = 'start-limit-hit';
      this.log(`${this.name}: Start request repeated too quickly (StartLimitBurst=${unit.startLimitBurst} within ${unit.startLimitIntervalMs} ms). Failed to start ${unit.description}.`);
      return fail(1, `Job for ${this.name} failed: the start was attempted too often (${unit.startLimitBurst} starts within ${unit.startLimitIntervalMs} ms). Run "systemctl reset-failed ${this.name}" before starting it again, or set StartLimitIntervalSec=0.\n`);
    }
    this.starts.push(now);
    const run = ++this.run;
    this.set('activating', 'start-pre');
    try {
      for (const line of unit.execStartPre) {
        const cmd = execCommand(line, env);
        const r = await this.runToEnd(cmd.argv, env, unit.workingDirectory);
        if (run !== this.run) return ok();
        if (r.code !== 0 && !cmd.ignoreFailure) {
          this.set('failed', 'failed');
          this.result = 'exit-code';
          this.log(`${this.name}: ExecStartPre ${cmd.argv.join(' ')} failed (${r.code ?? r.signal}); Failed to start ${unit.description}.`);
          return fail(1, `Job for ${this.name} failed because the control process exited with error code.\nSee "journalctl -u ${this.name}" for details.\n`);
        }
      }
      const cmd = execCommand(unit.execStart[0] ?? '', env);
      return await this.startMain(unit, cmd.argv, env, run);
    } catch (err) {
      this.set('failed', 'failed');
      this.result = 'resources';
      this.log(`Failed to start ${this.name}: ${(err as Error).message}`);
      return fail(1, `Job for ${this.name} failed: ${(err as Error).message}\n`);
    }
  }

  /**
   * Starts the main process and watches it for Restart=. Type=notify: the start is done once the process
   * sends READY=1 to $NOTIFY_SOCKET (as containerd does), fails if it exits first or TimeoutStartSec= passes.
   */
  private async startMain(unit: ServiceUnit, argv: string[], env: Record<string, string>, run: number): Promise<Reply> {
    const notify = unit.type === 'notify' ? await this.manager.notifySocket(this.name) : undefined;
    const child = this.spawnInCgroup(argv, notify ? { ...env, NOTIFY_SOCKET: notify.path } : env, unit.workingDirectory);
    this.main = child;
    this.mainPid = child.pid ?? 0;
    this.set(notify ? 'activating' : 'active', notify ? 'start' : 'running');
    this.log(`Start${notify ? 'ing' : 'ed'} ${unit.description} (${this.name}, main PID ${this.mainPid}): ${argv.join(' ')}`);
    child.once('error', (err) => this.log(`${this.name}: cannot run ${argv[0]}: ${err.message}`));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (run !== this.run) return;
      this.main = undefined;
      this.mainPid = 0;
      const how = signal ? `killed, signal=${signal}` : `exited, code=${code}`;
      this.log(`${this.name}: Main process ${how}`);
      if (shouldRestart(unit.restart, { code, signal })) {
        this.set('activating', 'auto-restart');
        this.log(`${this.name}: Scheduled restart in ${unit.restartSecMs} ms (Restart=${unit.restart}).`);
        this.restartTimer = setTimeout(() => {
          if (run !== this.run) return;
          this.restarts++;
          void this.enqueue(() => this.start());
        }, unit.restartSecMs);
        return;
      }
      this.result = code === 0 ? 'success' : signal ? 'signal' : 'exit-code';
      this.set(code === 0 ? 'inactive' : 'failed', code === 0 ? 'dead' : 'failed');
    });
    if (!notify) return ok();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      notify.ready.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), unit.timeoutStartMs))),
    ]);
    clearTimeout(timer);
    notify.close();
    if (run !== this.run) return ok();
    if (outcome === 'ready') {
      this.set('active', 'running');
      this.log(`Started ${unit.description} (READY=1).`);
      return ok();
    }
    if (outcome === 'timeout') {
      this.log(`${this.name}: start operation timed out after ${unit.timeoutStartMs} ms without READY=1 (Type=notify). Terminating.`);
      this.run++; // no restart for this one: systemd counts a start timeout as a failure
      child.kill('SIGKILL');
      await exited;
      this.main = undefined;
      this.mainPid = 0;
      this.result = 'timeout';
      this.set('failed', 'failed');
      return fail(1, `Job for ${this.name} failed because a timeout was exceeded (Type=notify, and no READY=1 came within TimeoutStartSec=).\nSee "journalctl -u ${this.name}" for details.\n`);
    }
    return fail(1, `Job for ${this.name} failed because the control process exited before it was ready.\nSee "journalctl -u ${this.name}" for details.\n`);
  }

  /** Stops it by its KillMode=: SIGTERM, then SIGKILL after TimeoutStopSec=; no restart follows. */
  async stop(): Promise<Reply> {
    this.run++;
    clearTimeout(this.restartTimer);
    if (this.state === 'inactive' || this.state === 'failed') {
      if (this.state === 'failed') this.set('failed', 'failed');
      return ok();
    }
    let unit: ServiceUnit | undefined;
    try {
      unit = this.manager.unit(this.name);
    } catch {
      unit = undefined;
    }
    const killMode = unit?.killMode ?? 'control-group';
    const timeout = unit?.timeoutStopMs ?? 90_000;
    this.set('deactivating', 'stop-sigterm');
    const targets = (): number[] => {
      if (killMode === 'none') return [];
      const main = this.mainPid && alive(this.mainPid) ? [this.mainPid] : [];
      return killMode === 'control-group' ? [...new Set([...main, ...this.cgroupPids()])] : main;
    };
    const signal = (pids: number[], sig: NodeJS.Signals) => pids.forEach((p) => { try { process.kill(p, sig); } catch { /* gone */ } });
    signal(targets(), 'SIGTERM');
    const deadline = Date.now() + timeout;
    while (targets().length > 0 && Date.now() < deadline) await sleep(50);
    if (targets().length > 0) {
      this.log(`${this.name}: State 'stop-sigterm' timed out. Killing.`);
      signal(targets(), 'SIGKILL');
    }
    // mixed: the rest of the cgroup gets SIGKILL once the main process is gone
    if (killMode === 'mixed') signal(this.cgroupPids(), 'SIGKILL');
    while (targets().length > 0) await sleep(50);
    this.main = undefined;
    this.mainPid = 0;
    this.set('inactive', 'dead');
    this.log(`Stopped ${unit?.description ?? this.name}.`);
    return ok();
  }
}

const ok = (out = ''): Reply => ({ out, err: '', code: 0 });
const fail = (code: number, err: string, out = ''): Reply => ({ out, err, code });

export class Manager {
  private readonly services = new Map<string, Service>();
  /** Loaded units, as systemd keeps them: read on first use, read again only after daemon-reload. */
  private readonly loaded = new Map<string, ServiceUnit>();

  constructor(readonly config: SupervisorConfig) {
    mkdirSync(config.journalDir, { recursive: true });
  }

  journal(unit: string, line: string): void {
    appendFileSync(this.logFile(unit), `${new Date().toISOString()} ${line}\n`);
  }

  logFile(unit: string): string {
    return join(this.config.journalDir, `${unit}.log`);
  }

  controllers(): string[] {
    const root = this.config.cgroupRoot;
    return readdirSync(root).filter((c) => c !== 'unified' && existsSync(join(root, c, 'cgroup.procs')));
  }

  /** A cgroup directory; a new cpuset cgroup starts with no CPUs, so it gets its parent's (as systemd's does). */
  makeCgroupDir(dir: string): void {
    const parts = dir.slice(this.config.cgroupRoot.length + 1).split('/');
    let path = join(this.config.cgroupRoot, parts[0] ?? '');
    for (const p of parts.slice(1)) {
      const parent = path;
      path = join(path, p);
      if (existsSync(path)) continue;
      mkdirSync(path);
      if (parts[0] === 'cpuset') for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(path, f), readFileSync(join(parent, f)));
    }
  }

  /**
   * A datagram socket for sd_notify at `<notifyDir>/<unit>`, received by socat (Node has no unix datagram
   * sockets); `ready` resolves on the first READY=1.
   */
  async notifySocket(unit: string): Promise<{ path: string; ready: Promise<void>; close(): void }> {
    mkdirSync(this.config.notifyDir, { recursive: true });
    const path = join(this.config.notifyDir, unit);
    rmSync(path, { force: true });
    const socat = spawn('socat', ['-u', `UNIX-RECV:${path}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    const ready = new Promise<void>((resolve) => {
      socat.stdout.on('data', (d: Buffer) => {
        got += d.toString();
        // socat writes datagrams back to back ("READY=1BARRIER=1" from systemd-notify), not one a line
        if (got.includes('READY=1')) resolve();
      });
    });
    const deadline = Date.now() + 5000;
    while (!existsSync(path)) {
      if (socat.exitCode !== null || Date.now() > deadline) throw new UnitError(`cannot listen for sd_notify on ${path} (is socat installed? bash test/world/setup.sh)`);
      await sleep(10);
    }
    return { path, ready, close: () => { socat.kill('SIGKILL'); rmSync(path, { force: true }); } };
  }

  private unitPath(name: string): string | undefined {
    for (const d of this.config.unitDirs) if (existsSync(join(d, name))) return join(d, name);
    return undefined;
  }

  /** The unit with its drop-ins (`<name>.d/*.conf` in every unit directory, by file name). */
  unit(name: string): ServiceUnit {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const path = this.unitPath(name);
    if (!path) throw new UnitError(`Unit ${name} not found.`);
    const dropIns = new Map<string, string>();
    for (const d of [...this.config.unitDirs].reverse()) {
      const dir = join(d, `${name}.d`);
      if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.endsWith('.conf')) dropIns.set(f, join(dir, f));
    }
    const sources = [path, ...[...dropIns.keys()].sort().map((f) => dropIns.get(f) ?? '')];
    const unit = serviceUnit(name, mergeUnitFiles(sources.map((f) => parseUnitFile(readFileSync(f, 'utf8')))), sources);
    this.loaded.set(name, unit);
    return unit;
  }

  private service(name: string): Service {
    let s = this.services.get(name);
    if (!s) {
      s = new Service(name, this);
      this.services.set(name, s);
    }
    return s;
  }

  private wantsLinks(name: string): string[] {
    const etc = this.config.unitDirs[0] ?? '/etc/systemd/system';
    let targets: string[] = [];
    try {
      targets = this.unit(name).wantedBy;
    } catch {
      targets = [];
    }
    return (targets.length ? targets : ['multi-user.target']).map((t) => join(etc, `${t}.wants`, name));
  }

  private isEnabled(name: string): boolean {
    return this.wantsLinks(name).some((l) => {
      try {
        return lstatSync(l).isSymbolicLink();
      } catch {
        return false;
      }
    });
  }

  private enable(name: string): Reply {
    const path = this.unitPath(name);
    if (!path) return fail(1, `Failed to enable unit: Unit file ${name} does not exist.\n`);
    let out = '';
    for (const link of this.wantsLinks(name)) {
      if (existsSync(link)) continue;
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(path, link);
      out += `Created symlink ${link} → ${path}.\n`;
    }
    return { out: '', err: out, code: 0 };
  }

  private disable(name: string): Reply {
    let err = '';
    for (const link of this.wantsLinks(name)) {
      try {
        unlinkSync(link);
        err += `Removed "${link}".\n`;
      } catch {
        // not enabled
      }
    }
    return { out: '', err, code: 0 };
  }

  private status(name: string): Reply {
    const path = this.unitPath(name);
    const s = this.services.get(name);
    if (!path) return fail(4, `Unit ${name} could not be found.\n`, `○ ${name}\n     Loaded: not-found (Reason: Unit ${name} not found.)\n     Active: inactive (dead)\n`);
    let description = name;
    let dropIns = '';
    try {
      const u = this.unit(name);
      description = u.description;
      if (u.sources.length > 1) dropIns = `    Drop-In: ${u.sources.slice(1).join(', ')}\n`;
    } catch (err) {
      description = `${name} (bad unit: ${(err as Error).message})`;
    }
    const state = s?.state ?? 'inactive';
    const lines = [
      `${state === 'active' ? '●' : '○'} ${name} - ${description}`,
      `     Loaded: loaded (${path}; ${this.isEnabled(name) ? 'enabled' : 'disabled'})`,
      dropIns.trimEnd(),
      `     Active: ${state} (${s?.sub ?? 'dead'}) since ${(s?.since ?? new Date()).toISOString()}`,
      s?.mainPid ? `   Main PID: ${s.mainPid}` : '',
      `     CGroup: /system.slice/${name}`,
    ].filter(Boolean);
    let tail = '';
    try {
      tail = readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n').slice(-10).join('\n');
    } catch {
      tail = '';
    }
    return { out: `${lines.join('\n')}\n\n${tail}\n`, err: '', code: state === 'active' ? 0 : 3 };
  }

  private show(name: string, props: string[], valueOnly: boolean): Reply {
    const s = this.services.get(name);
    const all: Record<string, string> = {
      Id: name,
      ActiveState: s?.state ?? 'inactive',
      SubState: s?.sub ?? 'dead',
      MainPID: String(s?.mainPid ?? 0),
      ExecMainPID: String(s?.mainPid ?? 0),
      NRestarts: String(s?.restarts ?? 0),
      Result: s?.result ?? 'success',
      LoadState: this.unitPath(name) ? 'loaded' : 'not-found',
      UnitFileState: this.isEnabled(name) ? 'enabled' : 'disabled',
    };
    const keys = props.length ? props : Object.keys(all);
    return ok(keys.map((k) => (valueOnly ? (all[k] ?? '') : `${k}=${all[k] ?? ''}`)).join('\n') + '\n');
  }

  private journalctl(args: string[]): Reply {
    const units: string[] = [];
    let lines = Number.POSITIVE_INFINITY;
    for (let i = 0; i < args.length; i++) {
      const a = args[i] ?? '';
      if (a === '-u' || a === '--unit') units.push(unitName(args[++i] ?? ''));
      else if (a.startsWith('--unit=')) units.push(unitName(a.slice(7)));
      else if (a.startsWith('-u') && a.length > 2) units.push(unitName(a.slice(2)));
      else if (a === '-n' || a === '--lines') lines = Number(args[++i]);
      else if (a.startsWith('--lines=')) lines = Number(a.slice(8));
      else if (['--no-pager', '-q', '--quiet', '-l', '--full', '-x', '-e', '--no-hostname'].includes(a)) continue;
      else return fail(1, `journalctl: this test host's journal reads only -u UNIT, -n N and --no-pager, not ${a}; the logs are files in ${this.config.journalDir}\n`);
    }
    if (units.length === 0) return fail(1, `journalctl: give -u UNIT (this test host keeps one log file per unit, in ${this.config.journalDir})\n`);
    let out = '';
    for (const u of units) {
      try {
        out += readFileSync(this.logFile(u), 'utf8');
      } catch {
        // nothing logged yet
      }
    }
    const all = out.trimEnd().split('\n').filter(Boolean);
    return ok(all.length ? `${all.slice(Number.isFinite(lines) ? -lines : 0).join('\n')}\n` : '-- No entries --\n');
  }

  /** One systemctl (or journalctl) invocation. */
  async handle(argv: string[]): Promise<Reply> {
    const [program, ...rest] = argv;
    if (program === 'journalctl') return this.journalctl(rest);
    const flags = rest.filter((a) => a.startsWith('-'));
    const words = rest.filter((a) => !a.startsWith('-'));
    const [verb, ...names] = words;
    const quiet = flags.includes('-q') || flags.includes('--quiet');
    const now = flags.includes('--now');
    const units = names.map(unitName);
    const each = async (f: (s: Service) => Promise<Reply>): Promise<Reply> => {
      const replies = await Promise.all(units.map((u) => this.service(u).enqueue(() => f(this.service(u)))));
      return { out: replies.map((r) => r.out).join(''), err: replies.map((r) => r.err).join(''), code: Math.max(0, ...replies.map((r) => r.code)) };
    };
    const needUnits = (): Reply | undefined => (units.length ? undefined : fail(1, `Too few arguments: systemctl ${verb} needs a unit name.\n`));
    const knownUnit = (u: string): Reply | undefined => (this.unitPath(u) ? undefined : fail(5, `Failed to ${verb} ${u}: Unit ${u} not found.\n`));
    switch (verb) {
      case 'daemon-reload':
        this.loaded.clear();
        return ok();
      case 'start':
      case 'restart':
      case 'reload-or-restart':
      case 'try-restart': {
        const missing = needUnits() ?? units.map(knownUnit).find(Boolean);
        if (missing) return missing;
        return each(async (s) => {
          if (verb === 'try-restart' && s.state !== 'active') return ok();
          if (verb !== 'start') await s.stop();
          return s.start();
        });
      }
      case 'stop':
        return needUnits() ?? each((s) => s.stop());
      case 'enable':
      case 'disable': {
        const missing = needUnits();
        if (missing) return missing;
        const replies = units.map((u) => (verb === 'enable' ? this.enable(u) : this.disable(u)));
        const failed = replies.find((r) => r.code !== 0);
        if (failed) return failed;
        const err = replies.map((r) => r.err).join('');
        if (!now) return { out: '', err, code: 0 };
        const r = await each((s) => (verb === 'enable' ? s.start() : s.stop()));
        return { ...r, err: err + r.err };
      }
      case 'is-active':
      case 'is-failed': {
        const missing = needUnits();
        if (missing) return missing;
        const states = units.map((u) => this.services.get(u)?.state ?? 'inactive');
        const hit = verb === 'is-active' ? states.some((s) => s === 'active') : states.some((s) => s === 'failed');
        return { out: quiet ? '' : states.map((s) => `${s}\n`).join(''), err: '', code: hit ? 0 : 3 };
      }
      case 'is-enabled': {
        const missing = needUnits();
        if (missing) return missing;
        const states = units.map((u) => (!this.unitPath(u) ? 'not-found' : this.isEnabled(u) ? 'enabled' : 'disabled'));
        return { out: quiet ? '' : states.map((s) => `${s}\n`).join(''), err: '', code: states.every((s) => s === 'enabled') ? 0 : 1 };
      }
      case 'status': {
        const missing = needUnits();
        if (missing) return missing;
        const replies = units.map((u) => this.status(u));
        return { out: replies.map((r) => r.out).join('\n'), err: replies.map((r) => r.err).join(''), code: Math.max(...replies.map((r) => r.code)) };
      }
      case 'show': {
        const props: string[] = [];
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i] ?? '';
          if (a === '-p' || a === '--property') props.push(...(rest[i + 1] ?? '').split(','));
          else if (a.startsWith('--property=')) props.push(...a.slice(11).split(','));
        }
        const names2 = units.filter((u) => !props.map(unitName).includes(u));
        return ok(names2.map((u) => this.show(u, props, flags.includes('--value')).out).join('\n'));
      }
      case 'reset-failed':
        for (const u of units.length ? units : [...this.services.keys()]) {
          const s = this.services.get(u);
          if (!s) continue;
          s.starts = [];
          if (s.state === 'failed') Object.assign(s, { state: 'inactive', sub: 'dead' });
        }
        return ok();
      case 'list-units': {
        const rows = [...this.services.values()].map((s) => `${s.name.padEnd(32)} loaded ${s.state.padEnd(12)} ${s.sub}`);
        return ok(rows.length ? `${rows.join('\n')}\n` : '');
      }
      case undefined:
        return fail(1, 'systemctl: give a verb (this test host knows: daemon-reload, start, stop, restart, try-restart, enable [--now], disable [--now], is-active, is-failed, is-enabled, status, show, reset-failed, list-units)\n');
      default:
        return fail(1, `Unknown command verb '${verb}': this test host's systemctl knows daemon-reload, start, stop, restart, try-restart, enable [--now], disable [--now], is-active, is-failed, is-enabled, status, show, reset-failed, list-units.\n`);
    }
  }
}

/** `kubelet` means `kubelet.service`, as systemctl takes it. */
function unitName(name: string): string {
  return /\.(service|socket|target|timer|mount|slice)$/.test(name) ? name : `${name}.service`;
}

function main(): void {
  process.title = SUPERVISOR_COMM;
  const configPath = process.argv[2];
  if (!configPath) throw new Error('usage: supervisor.ts CONFIG.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as SupervisorConfig;
  const manager = new Manager(config);
  rmSync(config.socket, { force: true });
  const server = createServer((conn) => {
    let buf = '';
    conn.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let argv: string[];
      try {
        argv = (JSON.parse(buf.slice(0, nl)) as { argv: string[] }).argv;
      } catch {
        conn.end(`${JSON.stringify(fail(1, 'bad request\n'))}\n`);
        return;
      }
      manager.handle(argv).then(
        (r) => conn.end(`${JSON.stringify(r)}\n`),
        (err: unknown) => conn.end(`${JSON.stringify(fail(1, `${(err as Error).message}\n`))}\n`),
      );
    });
    conn.on('error', () => undefined);
  });
  server.listen(config.socket, () => writeFileSync(config.pidFile, String(process.pid)));
}

main();
