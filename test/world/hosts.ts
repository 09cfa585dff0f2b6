// Test hosts: each a network namespace with its own address on a bridge in the root namespace, its own
// UTS namespace (hostname), and a real OpenSSH sshd with its own host key that accepts one generated
// client key. Everything lives under one directory and goes away with stop().
//
// These hosts share the machine's filesystem; kubeadm-hosts.ts makes hosts with private state (their
// own /etc/kubernetes, /var/lib/kubelet, ...) and a systemctl, for the site agent to install Kubernetes on.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, shQuiet } from './shell.js';

export interface TestHost {
  name: string;
  /** The netns name (for `ip netns exec`). */
  netns: string;
  /**
   * The netns path, for `nsenter --net=PATH`: long-running daemons in a host (containerd, kubelet) must use
   * that, since `ip netns exec` also gives them a private mount namespace that runc cannot see into.
   */
  netnsPath: string;
  address: string;
  port: number;
  user: string;
  /** OpenSSH private key (ed25519) that the host's root accepts. */
  privateKey: string;
  /** "SHA256:..." of the host's ed25519 host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** A directory of this host's own, on the shared filesystem. */
  dir: string;
  /** Runs a command inside the host's network namespace. */
  exec(cmd: string, args?: readonly string[]): string;
}

export interface TestHosts {
  hosts: TestHost[];
  bridge: string;
  /** The root namespace's address on the bridge (the hosts' gateway). */
  gateway: string;
  stop(): Promise<void>;
}

/** A /24 in 10.213.0.0/16 and a bridge name no other fixture on this machine is using now. */
export function claimSubnet(): { slot: number; bridge: string } {
  const links = sh('ip', ['-o', 'link', 'show']);
  const namespaces = sh('ip', ['netns', 'list']);
  for (let slot = 1; slot < 250; slot++) {
    const bridge = `opbr${slot}`;
    // A slot is free only when nothing of it is left: a host's veth outlives its bridge while some process
    // still holds the host's namespace (a command an earlier test left running there).
    const taken = links.includes(`${bridge}:`) || links.includes(`opv${slot}x`) || links.includes(`opk${slot}x`) || new RegExp(`^opk?-${slot}-`, 'm').test(namespaces);
    if (!taken) return { slot, bridge };
  }
  throw new Error('no free test subnet in 10.213.0.0/16: stop the other host fixtures (ip -o link show | grep opbr)');
}

export function waitForPort(netns: string, address: string, port: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const out = sh('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]);
      if (out.includes(address) || out.includes('0.0.0.0') || out.includes('*')) return;
    } catch {
      // ss not ready yet
    }
    if (Date.now() > deadline) throw new Error(`sshd in ${netns} did not listen on ${address}:${port} within ${timeoutMs} ms`);
    execFileSync('sleep', ['0.05']);
  }
}

/** The host's end of a veth pair as its eth0, with its address and a default route via the bridge. */
export function addHostLink(o: { netns: string; veth: string; bridge: string; address: string; gateway: string }): void {
  sh('ip', ['link', 'add', o.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', o.netns]);
  sh('ip', ['link', 'set', o.veth, 'master', o.bridge, 'up']);
  const inNs = (...args: string[]) => sh('ip', ['netns', 'exec', o.netns, ...args]);
  inNs('ip', 'addr', 'add', `${o.address}/24`, 'dev', 'eth0');
  inNs('ip', 'link', 'set', 'eth0', 'up');
  inNs('ip', 'link', 'set', 'lo', 'up');
  inNs('ip', 'route', 'add', 'default', 'via', o.gateway);
}

/**
 * A host's sshd files in `hostDir`: its own ed25519 host key, `authorized_keys` (for root) and
 * `sshd_config` listening on `address:22`. Returns the host key's "SHA256:..." fingerprint.
 */
export function writeSshdFiles(hostDir: string, name: string, address: string, authorizedKeys: string): string {
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(hostDir, 'ssh_host_ed25519_key')]);
  writeFileSync(join(hostDir, 'authorized_keys'), authorizedKeys, { mode: 0o600 });
  writeFileSync(
    join(hostDir, 'sshd_config'),
    [
      `ListenAddress ${address}`,
      'Port 22',
      `HostKey ${join(hostDir, 'ssh_host_ed25519_key')}`,
      `PidFile ${join(hostDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(hostDir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  return sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(hostDir, 'ssh_host_ed25519_key.pub')]).split(' ')[1] ?? '';
}

export async function startHosts(n: number, opts: { user?: string } = {}): Promise<TestHosts> {
  if (!existsSync('/usr/sbin/sshd')) throw new Error('sshd is missing: run `bash test/world/setup.sh` (installs openssh-server)');
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  const dir = mkdtempSync(join(tmpdir(), 'outpost-hosts-'));
  const { slot, bridge } = claimSubnet();
  const gateway = `10.213.${slot}.1`;
  const sshds: ChildProcess[] = [];
  const namespaces: string[] = [];
  const stop = async (): Promise<void> => {
    for (const p of sshds) p.kill('SIGKILL');
    await Promise.all(sshds.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
    for (const ns of namespaces) shQuiet('ip', ['netns', 'del', ns]);
    shQuiet('ip', ['link', 'del', bridge]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);

    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outpost-test-client', '-f', join(dir, 'client')]);
    const privateKey = readFileSync(join(dir, 'client'), 'utf8');
    const hosts: TestHost[] = [];
    for (let i = 0; i < n; i++) {
      const name = `host-${slot}-${i}`;
      const netns = `op-${slot}-${i}`;
      const address = `10.213.${slot}.${10 + i}`;
      const hostDir = join(dir, name);
      mkdirSync(hostDir, { recursive: true });
      sh('ip', ['netns', 'add', netns]);
      namespaces.push(netns);
      addHostLink({ netns, veth: `opv${slot}x${i}`, bridge, address, gateway });
      const fingerprint = writeSshdFiles(hostDir, name, address, readFileSync(join(dir, 'client.pub'), 'utf8'));
      // Own UTS namespace, so `hostname` inside answers this host's name.
      const sshd = spawn('ip', ['netns', 'exec', netns, 'unshare', '--uts', 'sh', '-c', `hostname ${name} && exec /usr/sbin/sshd -D -e -f ${join(hostDir, 'sshd_config')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      sshd.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      sshds.push(sshd);
      try {
        waitForPort(netns, address, 22, 10_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${stderr}`);
      }
      hosts.push({
        name,
        netns,
        netnsPath: `/run/netns/${netns}`,
        address,
        port: 22,
        user: opts.user ?? 'root',
        privateKey,
        hostKeyFingerprint: fingerprint,
        dir: hostDir,
        exec: (cmd, args = []) => sh('ip', ['netns', 'exec', netns, cmd, ...args]),
      });
    }
    return { hosts, bridge, gateway, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
