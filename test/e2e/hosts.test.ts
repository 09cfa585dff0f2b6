// The hosts fixture against the real thing: ssh2 to real sshd in network namespaces, with host-key pinning.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, type TestHost, type TestHosts } from '../world/hosts.js';

function sshRun(host: TestHost, command: string, pinned = host.hostKeyFingerprint): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn
      .on('ready', () => {
        conn.exec(command, (err, stream) => {
          if (err) return reject(err);
          let out = '';
          stream.on('data', (d: Buffer) => (out += d.toString())).on('close', () => {
            conn.end();
            resolve(out.trim());
          });
          stream.stderr.on('data', () => undefined);
        });
      })
      .on('error', reject)
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: host.privateKey,
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}` === pinned,
      });
  });
}

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
