// Kubeadm-capable test hosts against the real thing: ssh2 into real sshd in each host's namespaces; the
// host's systemctl running real services (a shell, Debian's containerd) from unit files written over SSH;
// and nothing left on the machine afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshExec, type SshResult } from '../lib/ssh-exec.js';
import { PRIVATE_PATHS, startKubeadmHosts, type KubeadmHost, type KubeadmHosts } from '../world/kubeadm-hosts.js';
import { KUBEADM_HOST_NETNS_PREFIX } from '../world/kubeadm-host-paths.js';
import { alive } from '../world/world-state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process on the machine whose mount namespace is `ns` ("mnt:[...]"). */
function inMountNamespace(ns: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readlinkSync(`/proc/${p}/ns/mnt`) === ns) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What a world made that must be gone after it: processes, mount namespaces, netns, cgroups, links, files. */
function leftovers(o: { pids: number[]; mountNamespaces: string[]; netns: string[]; cgroups: string[]; bridge: string; paths: string[] }): string[] {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return [
    ...o.pids.filter(alive).map((p) => `process ${p}`),
    ...o.mountNamespaces.flatMap((ns) => inMountNamespace(ns).map((p) => `process ${p} in ${ns}`)),
    ...o.netns.filter((ns) => netns.split('\n').some((l) => l.split(' ')[0] === ns)).map((ns) => `netns ${ns}`),
    ...o.cgroups.flatMap((cg) => readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, cg))).map((c) => `cgroup ${c}/${cg}`)),
    ...(links.includes(`${o.bridge}:`) ? [`link ${o.bridge}`] : []),
    ...o.paths.filter((p) => existsSync(p)).map((p) => `file ${p}`),
    // the hosts' own mounts died with their mount namespaces; none may be on the machine's
    ...readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => o.paths.some((p) => m === p || m.startsWith(`${p}/`))).map((m) => `mount ${m}`),
  ];
}

describe('kubeadm hosts: private state, a systemctl, sshd inside', () => {
  let world: KubeadmHosts;
  /**
   * The private paths the machine itself lacks now: they must still be missing after stop(). Not those a
   * seed's kubelet and containerd also make on the machine (another test may run one meanwhile).
   */
  const SEED_MAKES = ['/var/lib/kubelet', '/var/lib/cni', '/var/log/containers', '/var/log/pods', '/run/containerd'];
  const missingBefore = PRIVATE_PATHS.filter((p) => !existsSync(p) && !SEED_MAKES.includes(p));
  const pids: number[] = [];
  const mountNamespaces: string[] = [];
  const ssh = (h: KubeadmHost, command: string): Promise<SshResult> => sshExec(h, world.privateKey, h.hostKeyFingerprint, command);
  const run = async (h: KubeadmHost, command: string): Promise<string> => {
    const r = await ssh(h, command);
    if (r.code !== 0) throw new Error(`${h.name}: \`${command}\` exited ${r.code}: ${r.err}${r.out}`);
    return r.out.trim();
  };
  /** Writes a file on the host over SSH, as the agent writes unit files. */
  const write = (h: KubeadmHost, path: string, lines: readonly string[]): Promise<string> => run(h, `cat > ${path} <<'EOF'\n${lines.join('\n')}\nEOF`);
  const mainPid = async (h: KubeadmHost, unit: string): Promise<number> => Number(await run(h, `systemctl show -p MainPID --value ${unit}`));

  beforeAll(async () => {
    world = await startKubeadmHosts({ count: 2 });
    for (const h of world.hosts) {
      const supervisor = Number(readFileSync(join(h.dir, 'supervisor.pid'), 'utf8'));
      pids.push(supervisor);
      mountNamespaces.push(readlinkSync(`/proc/${supervisor}/ns/mnt`));
    }
  });
  afterAll(async () => {
    if (!world) return;
    const made = { pids, mountNamespaces, netns: world.hosts.map((h) => h.netns), cgroups: world.hosts.map((h) => h.cgroup), bridge: world.bridge, paths: [world.dir] };
    await world.stop();
    // The mount points made on the machine go with the last kubeadm host on it: another test's may run.
    const othersRun = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.startsWith(KUBEADM_HOST_NETNS_PREFIX));
    expect(leftovers({ ...made, paths: othersRun ? made.paths : [...made.paths, ...missingBefore] })).toEqual([]);
  });

  it('gives each host its own hostname, mount namespace and empty private paths; sshd runs inside them', async () => {
    expect(new Set(mountNamespaces).size).toBe(2);
    expect(mountNamespaces).not.toContain(readlinkSync('/proc/self/ns/mnt'));
    for (const h of world.hosts) {
      expect(await run(h, 'hostname')).toBe(h.name);
      // (IPv4 only: an IPv6 lookup would miss /etc/hosts and wait for a DNS server the hosts cannot reach)
      expect((await run(h, `getent ahostsv4 ${h.name}`)).split(/\s+/)[0]).toBe(h.address);
      // every private path starts empty: no Kubernetes, no containerd config, no units
      // (/run/systemd holds system/, the runtime units' directory, as on a systemd machine)
      expect(await run(h, `for p in ${PRIVATE_PATHS.join(' ')}; do echo "$p: [$(ls -A $p)]"; done`)).toBe(PRIVATE_PATHS.map((p) => `${p}: [${p === '/run/systemd' ? 'system' : ''}]`).join('\n'));
      // (the machine's own /usr/bin/kubectl, Google Cloud SDK's, stays visible: /usr/local/bin comes first on PATH)
      expect((await ssh(h, 'command -v kubeadm kubelet')).out).toBe('');
      // kubelet's volume mounts must reach runc's container mount namespaces
      expect(await run(h, 'findmnt -no PROPAGATION /var/lib/kubelet')).toBe('shared');
    }
  });

  it('keeps /etc/kubernetes and /usr/local/bin to each host: what one writes the other and the machine do not see', async () => {
    const [a, b] = world.hosts as [KubeadmHost, KubeadmHost];
    await run(a, 'echo from-a > /etc/kubernetes/admin.conf && printf "#!/bin/sh\\necho fake\\n" > /usr/local/bin/kubeadm && chmod +x /usr/local/bin/kubeadm');
    expect(await run(a, 'cat /etc/kubernetes/admin.conf && kubeadm')).toBe('from-a\nfake');
    expect(await run(b, 'ls -A /etc/kubernetes /usr/local/bin')).toBe('/etc/kubernetes:\n\n/usr/local/bin:');
    expect(existsSync('/etc/kubernetes/admin.conf')).toBe(false);
    expect(existsSync('/usr/local/bin/kubeadm')).toBe(false);
    // it lives in the host's own directory
    expect(readFileSync(a.fsPath('/etc/kubernetes/admin.conf'), 'utf8')).toBe('from-a\n');
    await run(a, 'rm /etc/kubernetes/admin.conf /usr/local/bin/kubeadm');
    // /etc/hosts too
    await run(a, 'echo "10.213.0.99 only-on-a" >> /etc/hosts');
    expect(await run(a, 'tail -1 /etc/hosts')).toBe('10.213.0.99 only-on-a');
    expect(await run(b, 'cat /etc/hosts')).not.toContain('only-on-a');
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('only-on-a');
  });

  it('runs a unit written over SSH: Environment and EnvironmentFile, in a cgroup of the host, logged for journalctl', async () => {
    const [h] = world.hosts as [KubeadmHost];
    await write(h, '/etc/systemd/system/sleeper.service', [
      '[Unit]',
      'Description=a sleeper',
      '[Service]',
      'Environment="GREETING=hello there" WHO=nobody',
      'EnvironmentFile=-/etc/default/sleeper-missing',
      'EnvironmentFile=/etc/default/sleeper',
      'ExecStart=/bin/sh -c "echo $$GREETING $$WHO; exec sleep 1000" ${WHO}',
      'Restart=always',
      'RestartSec=1',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
    await write(h, '/etc/default/sleeper', ["WHO='the file'"]);
    await run(h, 'systemctl daemon-reload && systemctl enable --now sleeper');
    expect(await run(h, 'systemctl is-active sleeper')).toBe('active');
    expect(await run(h, 'systemctl is-enabled sleeper')).toBe('enabled');
    const pid = await mainPid(h, 'sleeper');
    pids.push(pid);
    // EnvironmentFile overrides Environment; ${WHO} is one word ($0 of the shell here)
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(['sleep', '1000', '']);
    await expect.poll(async () => run(h, 'journalctl -u sleeper --no-pager'), { timeout: 5000 }).toContain('hello there the file');
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`:/${h.cgroup}/system.slice/sleeper.service`);
    // as the host sees it, its own cgroup is the root
    expect(await run(h, `grep :memory: /proc/${pid}/cgroup`)).toMatch(/^\d+:memory:\/system\.slice\/sleeper\.service$/);
  });

  it('restarts a killed service after RestartSec, and stop stops it for good', async () => {
    const [h] = world.hosts as [KubeadmHost];
    const before = await mainPid(h, 'sleeper');
    const killed = Date.now();
    await run(h, `kill -9 ${before}`);
    let after = 0;
    while (Date.now() - killed < 4000) {
      after = await mainPid(h, 'sleeper');
      if (after !== 0 && after !== before) break;
      await sleep(100);
    }
    const took = Date.now() - killed;
    pids.push(after);
    expect(after).not.toBe(before);
    expect(after).not.toBe(0);
    expect(took).toBeGreaterThanOrEqual(900); // RestartSec=1 is honoured, not an immediate respawn
    expect(took).toBeLessThan(3000);
    expect(await run(h, 'systemctl is-active sleeper')).toBe('active');
    expect(await run(h, 'systemctl show -p NRestarts --value sleeper')).toBe('1');
    expect(await run(h, 'journalctl -u sleeper -n 3')).toMatch(/Scheduled restart in 1000 ms/);

    await run(h, 'systemctl stop sleeper');
    expect(alive(after)).toBe(false);
    const r = await ssh(h, 'systemctl is-active sleeper');
    expect([r.out.trim(), r.code]).toEqual(['inactive', 3]);
    await sleep(1500); // no restart follows a stop
    expect(await mainPid(h, 'sleeper')).toBe(0);
  });

  it('honours a drop-in that resets ExecStart, and refuses one that adds a second', async () => {
    const [h] = world.hosts as [KubeadmHost];
    await run(h, "mkdir -p /etc/systemd/system/sleeper.service.d && printf '[Service]\\nExecStart=\\nExecStart=/bin/sleep 1001\\n' > /etc/systemd/system/sleeper.service.d/10-override.conf");
    await run(h, 'systemctl daemon-reload && systemctl restart sleeper');
    const pid = await mainPid(h, 'sleeper');
    pids.push(pid);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('/bin/sleep\u00001001\u0000');
    expect(await run(h, 'systemctl status sleeper')).toContain('Drop-In: /etc/systemd/system/sleeper.service.d/10-override.conf');

    await run(h, "printf '[Service]\\nExecStart=/bin/sleep 1002\\n' > /etc/systemd/system/sleeper.service.d/20-bad.conf && systemctl daemon-reload");
    const bad = await ssh(h, 'systemctl restart sleeper');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/more than one ExecStart= setting.*clear it with an empty "ExecStart="/);
    expect((await ssh(h, 'systemctl is-failed sleeper')).code).toBe(0);
    await run(h, 'rm /etc/systemd/system/sleeper.service.d/20-bad.conf && systemctl disable --now sleeper');
    expect((await ssh(h, 'systemctl is-enabled sleeper')).out.trim()).toBe('disabled');
  });

  it('waits for READY=1 of a Type=notify service, and fails one that never sends it within TimeoutStartSec', async () => {
    const [h] = world.hosts as [KubeadmHost];
    await write(h, '/etc/systemd/system/slow-ready.service', ['[Service]', 'Type=notify', "ExecStart=/bin/sh -c 'sleep 1; systemd-notify --ready; exec sleep 1000'"]);
    await write(h, '/etc/systemd/system/never-ready.service', ['[Service]', 'Type=notify', 'TimeoutStartSec=1', 'ExecStart=/bin/sleep 1000']);
    await run(h, 'systemctl daemon-reload');
    const t0 = Date.now();
    await run(h, 'systemctl start slow-ready');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(await run(h, 'systemctl is-active slow-ready')).toBe('active');
    pids.push(await mainPid(h, 'slow-ready'));
    await run(h, 'systemctl stop slow-ready');

    const never = await ssh(h, 'systemctl start never-ready');
    expect(never.code).toBe(1);
    expect(never.err).toMatch(/timeout was exceeded.*READY=1/);
    expect((await ssh(h, 'systemctl is-active never-ready')).out.trim()).toBe('failed');
    expect(await mainPid(h, 'never-ready')).toBe(0);
  });

  it("gives up on a service that keeps failing, as systemd's start rate limit does, until reset-failed", async () => {
    const [h] = world.hosts as [KubeadmHost];
    await write(h, '/etc/systemd/system/crasher.service', ['[Unit]', 'StartLimitIntervalSec=10s', 'StartLimitBurst=3', '[Service]', 'ExecStart=/bin/false', 'Restart=always', 'RestartSec=100ms']);
    await run(h, 'systemctl daemon-reload && systemctl start crasher');
    await expect.poll(async () => (await ssh(h, 'systemctl is-active crasher')).out.trim(), { timeout: 5000, interval: 200 }).toBe('failed');
    expect(await run(h, 'systemctl show -p Result --value crasher')).toBe('start-limit-hit');
    expect(await run(h, 'journalctl -u crasher')).toContain('Start request repeated too quickly');
    const again = await ssh(h, 'systemctl start crasher');
    expect(again.code).toBe(1);
    expect(again.err).toContain('systemctl reset-failed crasher.service');
    await run(h, 'systemctl reset-failed crasher');
    expect((await ssh(h, 'systemctl is-active crasher')).out.trim()).toBe('inactive');
  });

  it('answers unknown verbs and units with a clear error and a non-zero exit', async () => {
    const [h] = world.hosts as [KubeadmHost];
    const verb = await ssh(h, 'systemctl frobnicate kubelet');
    expect(verb.code).toBe(1);
    expect(verb.err).toMatch(/Unknown command verb 'frobnicate'.*knows daemon-reload, start/);
    const unit = await ssh(h, 'systemctl start kubelet');
    expect(unit.code).toBe(5);
    expect(unit.err).toContain('Unit kubelet.service not found');
    // what kubeadm's ServiceExists looks for
    expect((await ssh(h, 'systemctl status kubelet')).out).toContain('Loaded: not-found');
  });

  it("runs Debian's containerd as a service on each host, side by side, each on the host's private socket", async () => {
    // containerd's own unit, as its packages ship it
    const unit = ['[Unit]', 'Description=containerd container runtime', '[Service]', 'ExecStartPre=-/sbin/modprobe overlay', 'ExecStart=/usr/bin/containerd', 'Type=notify', 'Delegate=yes', 'KillMode=process', 'Restart=always', 'RestartSec=5', '[Install]', 'WantedBy=multi-user.target'];
    for (const h of world.hosts) {
      await write(h, '/etc/systemd/system/containerd.service', unit);
      await run(h, 'systemctl daemon-reload && systemctl enable --now containerd');
    }
    const uuids: string[] = [];
    for (const h of world.hosts) {
      pids.push(await mainPid(h, 'containerd'));
      // Type=notify: the start returned once containerd said READY=1, so it answers at once
      expect(await run(h, 'systemctl is-active containerd && ctr version')).toMatch(/^active\n[\s\S]*Server:/);
      uuids.push(/UUID: (\S+)/.exec(await run(h, 'ctr --address /run/containerd/containerd.sock version'))?.[1] ?? '');
      // the socket is the host's own, in its directory
      expect(existsSync(h.fsPath('/run/containerd/containerd.sock'))).toBe(true);
      expect(readdirSync(h.fsPath('/var/lib/containerd')).length).toBeGreaterThan(0);
    }
    expect(new Set(uuids).size).toBe(2);
    expect(uuids).not.toContain('');
  });
});

describe('npm run world -- hosts / down', () => {
  it('starts hosts in the background that take the given key, writes their Host manifests, and down removes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-khosts-cli-'));
    const keyDir = mkdtempSync(join(tmpdir(), 'outpost-khosts-key-'));
    const world = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../world/cli.ts', import.meta.url)), ...args], { encoding: 'utf8', timeout: 120_000 });
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agent', '-f', join(keyDir, 'agent')]);
      const bad = world('hosts', '--dir', dir, '--count', '1', '--site', 'lab', '--authorized-key', join(keyDir, 'agent'));
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/holds no OpenSSH public key.*give the \.pub file/);

      const up = world('hosts', '--dir', dir, '--count', '1', '--site', 'lab', '--authorized-key', join(keyDir, 'agent.pub'));
      expect(up.status, up.stderr).toBe(0);
      expect(up.stdout).toContain('1 hosts up');
      const [host] = YAML.parseAllDocuments(readFileSync(join(dir, 'hosts.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { site: string; address: string; sshPort: number; sshUser: string; hostKey: string } });
      expect(host).toMatchObject({ kind: 'Host', metadata: { name: 'host-0' }, spec: { site: 'lab', sshPort: 22, sshUser: 'root' } });
      // the command has exited; the host outlives it and takes the agent's key, pinned by hostKey
      const r = await sshExec({ address: host!.spec.address, port: host!.spec.sshPort, user: host!.spec.sshUser }, readFileSync(join(keyDir, 'agent'), 'utf8'), host!.spec.hostKey, 'hostname && systemctl is-active containerd; ls -A /etc/kubernetes');
      expect(r.out).toBe('host-0\ninactive\n');
      const state = JSON.parse(readFileSync(join(dir, 'world-state.json'), 'utf8')) as { netns: string[]; cgroups: string[]; links: string[] };

      const down = world('down', '--dir', dir);
      expect(down.status, down.stderr).toBe(0);
      expect(readdirSync(dir)).toEqual([]);
      expect(leftovers({ pids: [], mountNamespaces: [], netns: state.netns, cgroups: state.cgroups, bridge: state.links[0] ?? '', paths: [] })).toEqual([]);
    } finally {
      if (existsSync(join(dir, 'world-state.json'))) world('down', '--dir', dir);
      rmSync(dir, { recursive: true, force: true });
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});
