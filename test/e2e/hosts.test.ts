// The hosts fixture against the real thing: ssh2 to real sshd in network namespaces, with host-key pinning.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshExec } from '../lib/ssh-exec.js';
import { startHosts, type TestHost, type TestHosts } from '../world/hosts.js';

const sshRun = async (host: TestHost, command: string, pinned = host.hostKeyFingerprint): Promise<string> => (await sshExec(host, host.privateKey, pinned, command)).out.trim();

describe('test hosts: network namespaces with real sshd', () => {
  let world: TestHosts;
  beforeAll(async () => {
    world = await startHosts(3);
  });
  afterAll(async () => {
    const { bridge, hosts } = world ?? { bridge: '', hosts: [] };
    await world?.stop();
    // nothing left behind
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links).not.toContain(`${bridge}:`);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const h of hosts) expect(namespaces).not.toContain(h.netns);
  });

  it('gives each host its own address, hostname and host key', () => {
    const addresses = new Set(world.hosts.map((h) => h.address));
    const keys = new Set(world.hosts.map((h) => h.hostKeyFingerprint));
    expect(addresses.size).toBe(3);
    expect(keys.size).toBe(3);
    for (const h of world.hosts) expect(h.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('lets ssh2 in with the pinned host key; each host sees its own name and address', async () => {
    for (const h of world.hosts) {
      expect(await sshRun(h, 'hostname')).toBe(h.name);
      expect(await sshRun(h, 'ip -4 -o addr show dev eth0')).toContain(`${h.address}/24`);
    }
  });

  it('refuses a host whose key does not match the pin', async () => {
    const [a, b] = world.hosts;
    await expect(sshRun(a!, 'true', b!.hostKeyFingerprint)).rejects.toThrow(/verification failed/i);
  });

  it('reaches the hosts from each other through the bridge', () => {
    const [a, b] = world.hosts;
    // a TCP connect from inside host a to host b's sshd (ping is not on a minimal machine)
    expect(a!.exec('bash', ['-c', `exec 3<>/dev/tcp/${b!.address}/22 && head -c 7 <&3`])).toBe('SSH-2.0');
  });
});
