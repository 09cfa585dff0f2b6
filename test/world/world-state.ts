// What a test world made on this machine, written to `<dir>/world-state.json` as it goes, so teardown
// works from any process: the fixture's own stop(), `npm run world -- down`, or a later run cleaning up
// after a test process that was killed.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupPids, removeCgroup } from './cgroups.js';
import { KUBEADM_HOST_NETNS_PREFIX, PRIVATE_PATHS } from './kubeadm-host-paths.js';
import { SEED_NETNS_PREFIX } from './seed-config.js';
import { shQuiet as quiet } from './shell.js';

export interface WorldProcess {
  name: string;
  pid: number;
  /** The executable's basename, checked against /proc before a kill so a reused pid is never hit. */
  comm: string;
}

export interface WorldState {
  dir: string;
  /** Whether teardown removes `dir` itself (the fixture made it) or only empties it (the caller gave it). */
  ownsDir: boolean;
  /**
   * The process whose world this is (a test run), when the world should not outlive it: a later fixture
   * sweeps the world away once that process is gone. Unset for `npm run world -- up`, whose world is meant
   * to outlive the command.
   */
  ownerPid?: number;
  processes: WorldProcess[];
  netns: string[];
  links: string[];
  /** Cgroup names under every v1 controller; everything in them is killed, then they are removed. */
  cgroups: string[];
  /** A containerd the world ran: its shims' sockets live in the machine-wide /run/containerd/s. */
  containerd?: { socket: string; namespace: string; stateDir: string };
  /**
   * Directories (or empty files) the world made outside `dir` as mount points for a kubeadm host's private
   * paths (/etc/kubernetes, /var/lib/etcd, ...), parents first; removed when no kubeadm host is left.
   */
  createdPaths?: string[];
  /** Other facts for `world status` (API server URL, kubeconfig path, ...). */
  info: Record<string, string>;
}

export const stateFile = (dir: string): string => join(dir, 'world-state.json');

export function saveState(state: WorldState): void {
  writeFileSync(stateFile(state.dir), JSON.stringify(state, null, 2));
}

export function loadState(dir: string): WorldState {
  const file = stateFile(dir);
  if (!existsSync(file)) throw new Error(`${dir} holds no test world (no world-state.json): nothing to do`);
  return JSON.parse(readFileSync(file, 'utf8')) as WorldState;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kubeadmHostsRunning = (): boolean => quiet('ip', ['netns', 'list']).split('\n').some((l) => l.startsWith(KUBEADM_HOST_NETNS_PREFIX));

/** The mount points a kubeadm-host world made, once no kubeadm host is left (deepest first; only if empty: a non-empty one is someone else's now). */
function removeCreatedPathsIfLast(paths: readonly string[]): string[] {
  if (paths.length === 0 || kubeadmHostsRunning()) return [];
  const left: string[] = [];
  for (const p of [...paths].reverse()) {
    try {
      if (lstatSync(p).isDirectory()) rmdirSync(p);
      else if (lstatSync(p).size === 0) rmSync(p);
    } catch (err) {
      // Gone already, or something else on the machine (a seed's kubelet) has put files there since: leave it.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') left.push(`mount point ${p} (${code ?? 'error'})`);
    }
  }
  return left;
}

/** Whether pid runs (a zombie does not: it holds nothing and waits only for its parent to reap it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function kill9(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Whether the recorded process still runs as itself (its pid not reused by another program). */
export function stillRuns(p: WorldProcess): boolean {
  return isSame(p) && alive(p.pid);
}

function isSame(p: WorldProcess): boolean {
  try {
    return readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim() === p.comm.slice(0, 15);
  } catch {
    return false;
  }
}

/**
 * Every living process of the world: its recorded daemons, everything in its cgroups (pods) and in its
 * network namespaces (shims, and anything else started there).
 */
export function worldPids(state: WorldState): number[] {
  const pids = new Set<number>();
  for (const p of state.processes) if (stillRuns(p)) pids.add(p.pid);
  for (const cg of state.cgroups) for (const pid of cgroupPids(cg)) pids.add(pid);
  for (const ns of state.netns) for (const pid of quiet('ip', ['netns', 'pids', ns]).split('\n')) if (pid) pids.add(Number(pid));
  return [...pids].filter(alive);
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

/**
 * What the world's node leaves outside its directory: the sockets of containerd's shims (named by a
 * hash of containerd's address, namespace and task id, as containerd 1.6 names them) and kubelet's
 * symlinks in /var/log/containers (a path kubelet does not let us move) to its pod logs.
 */
function machineWideLeftovers(state: WorldState): string[] {
  const out: string[] = [];
  const c = state.containerd;
  const tasks = c ? join(c.stateDir, 'io.containerd.runtime.v2.task', c.namespace) : '';
  if (c && existsSync(tasks)) {
    const ids = readdirSync(tasks);
    for (const id of ids) out.push(join('/run/containerd/s', createHash('sha256').update(`${c.socket}/${c.namespace}/${id}`).digest('hex')));
    // libcni's result cache (containerd 1.6 cannot move it): `<network>-<sandbox id>-<interface>`
    const cniCache = '/var/lib/cni/results';
    if (existsSync(cniCache)) for (const f of readdirSync(cniCache)) if (ids.some((id) => f.includes(`-${id}-`))) out.push(join(cniCache, f));
  }
  const links = '/var/log/containers';
  if (existsSync(links)) {
    for (const f of readdirSync(links)) {
      try {
        if (readlinkSync(join(links, f)).startsWith(`${state.dir}/`)) out.push(join(links, f));
      } catch {
        // not a symlink
      }
    }
  }
  return out;
}

// Paths every kubelet and containerd on the machine share, whatever their flags: kubelet's device-plugin
// socket (a fixed path in its API), and the directories kubelet, libcni and containerd's shims make.
const SHARED_FILES = ['/var/lib/kubelet/device-plugins/kubelet.sock'];
const SHARED_DIRS = ['/var/lib/kubelet/device-plugins', '/var/lib/kubelet', '/var/lib/cni/results', '/var/lib/cni', '/run/containerd/s', '/run/containerd', '/var/log/containers', '/var/log/pods'];

/**
 * Once no seed node is left on the machine, its shared files go, and the shared directories if empty (but
 * not one that is a kubeadm host's mount point while such a host runs).
 */
function removeNodeLeftoversIfLast(): void {
  if (quiet('ip', ['netns', 'list']).split('\n').some((l) => l.startsWith(SEED_NETNS_PREFIX))) return;
  for (const f of SHARED_FILES) rmSync(f, { force: true });
  // A kubeadm host's private mount sits on /var/lib/kubelet, /run/containerd, ...: see PRIVATE_PATHS.
  const mountPoints: readonly string[] = kubeadmHostsRunning() ? PRIVATE_PATHS : [];
  for (const d of SHARED_DIRS.filter((d) => !mountPoints.includes(d))) {
    try {
      rmdirSync(d);
    } catch {
      // not empty, or not there: not ours alone
    }
  }
}

/**
 * Removes everything the world made, in an order that keeps anything from coming back: daemons first
 * (so kubelet restarts nothing), then every process in its cgroups and network namespaces (pods, shims),
 * then mounts, cgroups, namespaces, links and files. Safe to run twice, and on a half-made world.
 * Returns what could not be removed, for the caller to report.
 */
export async function teardown(state: WorldState): Promise<string[]> {
  const machineWide = machineWideLeftovers(state);
  for (const p of state.processes) if (isSame(p)) kill9(p.pid);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const living = worldPids(state);
    if (living.length === 0 || Date.now() > deadline) break;
    living.forEach(kill9);
    await sleep(100);
  }
  const left: string[] = [];
  for (const f of machineWide) rmSync(f, { force: true });
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(state.dir);
    if (mounts.length === 0) break;
    for (const m of mounts) quiet('umount', ['-l', m]);
  }
  left.push(...mountsUnder(state.dir).map((m) => `mount ${m}`));
  for (const cg of state.cgroups) left.push(...removeCgroup(cg).map((d) => `cgroup ${d}`));
  for (const ns of state.netns) quiet('ip', ['netns', 'del', ns]);
  if (state.containerd) removeNodeLeftoversIfLast();
  for (const link of state.links) quiet('ip', ['link', 'del', link]);
  left.push(...removeCreatedPathsIfLast(state.createdPaths ?? []));
  const netns = quiet('ip', ['netns', 'list']);
  left.push(...state.netns.filter((ns) => netns.split('\n').some((l) => l.split(' ')[0] === ns)).map((ns) => `netns ${ns}`));
  if (left.length === 0) {
    if (state.ownsDir) rmSync(state.dir, { recursive: true, force: true });
    else for (const f of readdirSync(state.dir)) rmSync(join(state.dir, f), { recursive: true, force: true });
  }
  return left;
}

/**
 * Tears down the worlds under `parent` whose owner process has died without stopping them (a test run
 * killed mid-way), so their processes, namespaces and addresses do not pile up run after run.
 */
export async function sweepOrphans(parent: string, prefix: string): Promise<string[]> {
  const swept: string[] = [];
  for (const d of readdirSync(parent)) {
    if (!d.startsWith(prefix) || !existsSync(stateFile(join(parent, d)))) continue;
    let state: WorldState;
    try {
      state = loadState(join(parent, d));
    } catch {
      continue;
    }
    if (state.ownerPid === undefined || alive(state.ownerPid)) continue;
    await teardown(state);
    swept.push(state.dir);
  }
  return swept;
}
