// Test hosts that can carry kubeadm: like hosts.ts's (a network namespace on a bridge, its own hostname,
// a real sshd), and besides
// - a mount namespace of their own, where every path kubeadm, kubelet and containerd write is a private
//   directory under the host's own (PRIVATE_PATHS), so two hosts never share /etc/kubernetes;
// - a cgroup of their own under every v1 controller, which the host sees as the root of each hierarchy
//   (a cgroup namespace, and the hierarchies mounted afresh in it), so a kubelet's kubepods stay inside;
// - a service manager (service-runner/supervisor.ts) with `systemctl` and `journalctl` in front, reading
//   ordinary unit files from the host's private /etc/systemd/system.
// sshd is started inside all of these, so every SSH session sees the host's view. Everything is recorded
// in `<dir>/world-state.json` before it is made, and teardown() (stop(), `npm run world -- down`) removes it.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCgroup } from './cgroups.js';
import { addHostLink, claimSubnet, waitForPort, writeSshdFiles } from './hosts.js';
import { SUPERVISOR_COMM, type SupervisorConfig } from './service-runner/protocol.js';
import { sh } from './shell.js';
import { KUBEADM_HOST_NETNS_PREFIX, PRIVATE_PATHS } from './kubeadm-host-paths.js';
import { saveState, stateFile, sweepOrphans, teardown, type WorldState } from './world-state.js';


export interface KubeadmHost {
  /** `host-0`, `host-1`, ...: the Host's name and the hostname inside. */
  name: string;
  netns: string;
  address: string;
  port: number;
  user: string;
  /** "SHA256:..." of the host's ed25519 host key. */
  hostKeyFingerprint: string;
  /** The host's directory: `fs/` holds its private paths (`fs/etc/kubernetes`, ...), `logs/` its services' output. */
  dir: string;
  /** Where a private path of the host lives on the machine (`fsPath('/etc/kubernetes')`). */
  fsPath(path: string): string;
  /** The log a service writes (`journalctl -u NAME` in the host prints it). */
  serviceLog(unit: string): string;
  /** The host's cgroup, under every v1 controller. */
  cgroup: string;
}

export interface KubeadmHosts {
  dir: string;
  hosts: KubeadmHost[];
  /** OpenSSH private key (ed25519) that every host's root accepts. */
  privateKey: string;
  bridge: string;
  gateway: string;
  /** Removes every process (services too), mount, namespace, cgroup, link and file. Safe to call twice. */
  stop(): Promise<void>;
}

export interface KubeadmHostsOptions {
  count: number;
  /** A new or empty directory, emptied by stop(); default a new temp directory, removed by stop(). */
  dir?: string;
  /** More public keys (authorized_keys lines) root accepts, besides the generated client key. */
  authorizedKeys?: string;
  /** Whether the hosts may outlive this process (`npm run world -- hosts`); otherwise a later run sweeps them away. */
  detached?: boolean;
  log?: (line: string) => void;
}

export { PRIVATE_PATHS } from './kubeadm-host-paths.js';

const here = dirname(fileURLToPath(import.meta.url));
const SUPERVISOR = join(here, 'service-runner', 'supervisor.ts');
const SYSTEMCTL = join(here, 'service-runner', 'systemctl.ts');
/** tsx's loader, for the supervisor (it imports its siblings by .js names, which Node's own type stripping cannot map). */
const TSX = (() => {
  for (let d = here; d !== '/'; d = dirname(d)) if (existsSync(join(d, 'node_modules', 'tsx', 'package.json'))) return join(d, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
  throw new Error('tsx is missing: run `npm ci`');
})();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The machine's cgroup v1 hierarchies: directory name and the options that mount it again. */
function hierarchies(): Array<{ dir: string; options: string }> {
  const out: Array<{ dir: string; options: string }> = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (type !== 'cgroup' || !mountPoint?.startsWith('/sys/fs/cgroup/')) continue;
    const keep = (opts ?? '').split(',').filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec'].includes(o));
    // a named hierarchy with no controllers (name=systemd) mounts as "none,name=..."
    const options = keep.every((o) => o.startsWith('name=')) ? ['none', ...keep].join(',') : keep.join(',');
    out.push({ dir: mountPoint.slice('/sys/fs/cgroup/'.length), options });
  }
  return out;
}

/**
 * The script that turns the new namespaces into the host, run as their first process: hostname, private
 * paths, systemctl, its own cgroup hierarchies, shared propagation, then the supervisor and sshd.
 */
function bootScript(o: { name: string; hostDir: string; supervisorConfig: string; sshdConfig: string; bin: string }): string {
  const binds = [...PRIVATE_PATHS, '/etc/hosts'].map((p) => `mount --bind ${q(join(o.hostDir, 'fs', p))} ${q(p)}`);
  const cgroups = hierarchies().map((h) => `mkdir -p /sys/fs/cgroup/${h.dir} && mount -t cgroup -o ${h.options} cgroup /sys/fs/cgroup/${h.dir}`);
  return [
    '#!/bin/sh',
    'set -eu',
    `hostname ${q(o.name)}`,
    ...binds,
    // every systemctl and journalctl in the host is the supervisor's
    `mount --bind ${q(join(o.bin, 'systemctl'))} /usr/bin/systemctl`,
    `mount --bind ${q(join(o.bin, 'journalctl'))} /usr/bin/journalctl`,
    // This process is in the host's cgroup and cgroup namespace: hierarchies mounted now have the host's
    // cgroup as their root, so kubelet's kubepods and runc's containers land inside it.
    'mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup',
    ...cgroups,
    'mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified',
    // Shared inside the host (slave to the machine, so nothing leaks out): kubelet's volume mounts under
    // /var/lib/kubelet reach the mount namespaces runc makes for containers, as on a systemd machine.
    'mount --make-rshared /',
    `${q(process.execPath)} --import ${q(TSX)} ${q(SUPERVISOR)} ${q(o.supervisorConfig)} >> ${q(join(o.hostDir, 'logs', 'supervisor.log'))} 2>&1 &`,
    `exec /usr/sbin/sshd -D -e -f ${q(o.sshdConfig)}`,
    '',
  ].join('\n');
}

/** Each of `paths` (and the parents it needs) as a mount point on the machine; returns what it made, parents first. */
function makeMountPoints(paths: readonly string[]): string[] {
  const made: string[] = [];
  for (const p of paths) {
    const missing: string[] = [];
    for (let d = p; !existsSync(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) {
      mkdirSync(d);
      made.push(d);
    }
  }
  return made;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, log: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      let tail = '';
      try {
        tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
      } catch {
        tail = '(no log)';
      }
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; the end of ${log}:\n${tail}`);
    }
    await sleep(50);
  }
}

export async function startKubeadmHosts(opts: KubeadmHostsOptions): Promise<KubeadmHosts> {
  const log = opts.log ?? (() => undefined);
  if (!existsSync('/usr/sbin/sshd')) throw new Error('sshd is missing: run `bash test/world/setup.sh` (installs openssh-server)');
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 200) throw new Error(`count must be a whole number from 1 to 200, not ${opts.count}`);
  for (const swept of await sweepOrphans(tmpdir(), 'outpost-khosts-')) log(`removed the hosts in ${swept}: the test run that made them died without stopping them`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = resolve(opts.dir ?? mkdtempSync(join(tmpdir(), 'outpost-khosts-')));
  mkdirSync(dir, { recursive: true });
  if (existsSync(stateFile(dir))) throw new Error(`${dir} already holds a test world: run \`npm run world -- down --dir ${dir}\` first`);
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: give a new or empty directory (the hosts' files go there, and \`down\` empties it)`);
  // a unix socket's path has at most 107 bytes
  const longest = join(dir, `host-${opts.count - 1}`, 'supervisor.sock');
  if (Buffer.byteLength(longest) > 107) throw new Error(`${dir} is too deep: the hosts' sockets (${longest}) would pass the 107 bytes a unix socket path may have; give a shorter --dir`);
  const { slot, bridge } = claimSubnet();
  const gateway = `10.213.${slot}.1`;
  const state: WorldState = {
    dir,
    ownsDir: opts.dir === undefined,
    processes: [],
    netns: [],
    links: [bridge],
    cgroups: [],
    createdPaths: [],
    info: { kind: 'kubeadm-hosts', slot: String(slot), bridge },
    ...(opts.detached ? {} : { ownerPid: process.pid }),
  };
  saveState(state);
  const stop = async (): Promise<void> => {
    const left = await teardown(state);
    if (left.length) throw new Error(`kubeadm hosts in ${dir} left behind: ${left.join(', ')}`);
  };
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    // recorded before they are made: a crash in between must not leave one behind
    state.createdPaths = makeMountPoints(PRIVATE_PATHS);
    saveState(state);

    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outpost-test-client', '-f', join(dir, 'client')]);
    const privateKey = readFileSync(join(dir, 'client'), 'utf8');
    const authorized = `${readFileSync(join(dir, 'client.pub'), 'utf8').trim()}\n${(opts.authorizedKeys ?? '').trim()}\n`;
    const hosts: KubeadmHost[] = [];
    for (let i = 0; i < opts.count; i++) {
      const name = `host-${i}`;
      const netns = `${KUBEADM_HOST_NETNS_PREFIX}${slot}-${i}`;
      const address = `10.213.${slot}.${10 + i}`;
      const cgroup = `outpost-khost-${slot}-${i}`;
      const hostDir = join(dir, name);
      const bin = join(hostDir, 'bin');
      const logs = join(hostDir, 'logs');
      log(`${name}: ${address}`);
      for (const p of [...PRIVATE_PATHS, '/run/systemd/system']) mkdirSync(join(hostDir, 'fs', p), { recursive: true });
      // Its own /etc/hosts, the machine's plus its own name (kubeadm's preflight looks the hostname up, and
      // an installer may add lines): a copy, so what a host writes there stays in it.
      writeFileSync(join(hostDir, 'fs', 'etc', 'hosts'), `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n${address}\t${name}\n`);
      mkdirSync(bin, { recursive: true });
      mkdirSync(logs, { recursive: true });
      state.netns.push(netns);
      state.cgroups.push(cgroup);
      saveState(state);
      makeCgroup(cgroup);
      sh('ip', ['netns', 'add', netns]);
      addHostLink({ netns, veth: `opk${slot}x${i}`, bridge, address, gateway });
      const hostKeyFingerprint = writeSshdFiles(hostDir, name, address, authorized);

      const socket = join(hostDir, 'supervisor.sock');
      const pidFile = join(hostDir, 'supervisor.pid');
      const supervisorConfig: SupervisorConfig = { socket, journalDir: logs, unitDirs: ['/etc/systemd/system', '/run/systemd/system'], cgroupRoot: '/sys/fs/cgroup', pidFile, notifyDir: '/run/systemd/notify' };
      writeFileSync(join(hostDir, 'supervisor.json'), JSON.stringify(supervisorConfig, null, 2));
      for (const program of ['systemctl', 'journalctl']) {
        writeFileSync(join(bin, program), `#!/bin/sh\nexec ${q(process.execPath)} --no-warnings ${q(SYSTEMCTL)} ${q(socket)} ${program} "$@"\n`, { mode: 0o755 });
      }
      writeFileSync(join(hostDir, 'boot.sh'), bootScript({ name, hostDir, supervisorConfig: join(hostDir, 'supervisor.json'), sshdConfig: join(hostDir, 'sshd_config'), bin }), { mode: 0o755 });

      // Into the host's cgroup first, so the cgroup namespace unshare makes next is rooted there.
      const procs = readdirSync('/sys/fs/cgroup')
        .filter((c) => c !== 'unified' && existsSync(join('/sys/fs/cgroup', c, cgroup, 'cgroup.procs')))
        .map((c) => join('/sys/fs/cgroup', c, cgroup, 'cgroup.procs'));
      const enter = `for f in ${procs.map(q).join(' ')}; do echo $$ > "$f"; done; exec nsenter --net=/run/netns/${netns} -- unshare --uts --mount --cgroup --propagation slave -- /bin/sh ${q(join(hostDir, 'boot.sh'))}`;
      const bootLog = join(logs, 'boot.log');
      const out = openSync(bootLog, 'a');
      const child = spawn('/bin/sh', ['-c', enter], { stdio: ['ignore', out, out], detached: true });
      closeSync(out);
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${name}`);
      // the pid ends as sshd (sh, nsenter, unshare and sh exec one another)
      state.processes.push({ name: `${name} sshd`, pid: child.pid, comm: 'sshd' });
      saveState(state);
      await waitFor(`${name}'s supervisor`, () => existsSync(pidFile), 30_000, join(logs, 'supervisor.log'));
      state.processes.unshift({ name: `${name} supervisor`, pid: Number(readFileSync(pidFile, 'utf8')), comm: SUPERVISOR_COMM });
      saveState(state);
      try {
        waitForPort(netns, address, 22, 10_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${readFileSync(bootLog, 'utf8')}`, { cause: err });
      }
      hosts.push({
        name,
        netns,
        address,
        port: 22,
        user: 'root',
        hostKeyFingerprint,
        dir: hostDir,
        fsPath: (p) => join(hostDir, 'fs', p),
        serviceLog: (unit) => join(logs, `${/\.[a-z]+$/.test(unit) ? unit : `${unit}.service`}.log`),
        cgroup,
      });
    }
    state.info = { ...state.info, hosts: hosts.map((h) => `${h.name}=${h.address}`).join(' '), privateKey: join(dir, 'client') };
    saveState(state);
    return { dir, hosts, privateKey, bridge, gateway, stop };
  } catch (err) {
    if (process.env.OUTPOST_KEEP_WORLD === '1') throw err;
    await teardown(state);
    throw err;
  }
}
