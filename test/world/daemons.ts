// Long-running processes of a test world: started detached with their output in a log file (so they
// outlive the process that started them, for `npm run world -- up`), each recorded in the world's state
// before anything waits on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { saveState, type WorldState } from './world-state.js';

export interface DaemonSpec {
  name: string;
  cmd: string;
  args: readonly string[];
  /**
   * A network namespace to run in. Entered with nsenter, not `ip netns exec`: that one also makes a
   * private mount namespace, so kubelet's volume mounts would be invisible to containerd's runc.
   */
  netns?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Daemons {
  private readonly children: Array<{ name: string; child: ChildProcess }> = [];

  constructor(
    private readonly state: WorldState,
    readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: DaemonSpec): ChildProcess {
    const log = openSync(join(this.logDir, `${spec.name}.log`), 'a');
    const [cmd, args] = spec.netns ? ['nsenter', [`--net=/run/netns/${spec.netns}`, '--', spec.cmd, ...spec.args]] : [spec.cmd, spec.args];
    const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.cmd})`);
    this.children.push({ name: spec.name, child });
    this.state.processes.push({ name: spec.name, pid: child.pid, comm: basename(spec.cmd) });
    saveState(this.state);
    return child;
  }

  private tail(name: string, lines: number): string {
    try {
      return readFileSync(join(this.logDir, `${name}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The end of every daemon's log, for an error that outlives the files. */
  tails(lines = 8): string {
    return this.children.map((c) => `--- ${c.name} (${c.child.exitCode === null && c.child.signalCode === null ? 'running' : 'exited'}):\n${this.tail(c.name, lines)}`).join('\n');
  }

  /** The first daemon that has exited, with the tail of its log. */
  firstDead(): string | undefined {
    const dead = this.children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
    if (!dead) return undefined;
    return `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}); the end of ${join(this.logDir, `${dead.name}.log`)}:\n${this.tail(dead.name, 15)}`;
  }

  /** Polls `check` until it holds; fails at once, with the log's tail, when any daemon dies meanwhile. */
  async waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let ok = false;
      try {
        ok = await check();
      } catch {
        ok = false;
      }
      if (ok) return;
      const dead = this.firstDead();
      if (dead) throw new Error(`${dead}\n(while waiting for ${what})`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; logs in ${this.logDir}`);
      await sleep(250);
    }
  }
}
