// A site's agent checks its Hosts over SSH with its own key, as an operator sets it up: join, authorize
// `outpost-agent ssh-key` on the hosts, apply Hosts with pinned keys. A pinned key gets the host probed; a
// changed or missing pin stops the host with a condition naming the key it presented, and nothing runs.
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, type Condition, type Host } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datacenter, host, project, site } from '../lib/fixtures.js';
import { OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { startHosts, type TestHost, type TestHosts } from '../world/hosts.js';

const K = (n: string) => findKind(n)!;
const SITE = 'store-7';

describe("a site agent's Hosts over SSH", () => {
  let hub: TestHub;
  let agent: TestAgent;
  let world: TestHosts;
  let h: TestHost[];

  const hostObj = (name: string, t: TestHost, hostKey: string) => ({ ...host(name, SITE, t.address), spec: { ...host(name, SITE, t.address).spec, hostKey } });
  const conditions = async (name: string): Promise<Record<string, Condition>> => {
    const got = await hub.api().get<Host>(K('hosts'), name);
    return Object.fromEntries((got.status?.conditions ?? []).filter((c) => c.observedGeneration === got.metadata.generation).map((c) => [c.type, c]));
  };
  const settled = (name: string, type: string, status: string) =>
    waitFor(`${name} ${type}=${status}`, async () => {
      const c = await conditions(name);
      return c[type]?.status === status && c;
    }, 30_000, 250);

  beforeAll(async () => {
    [hub, world] = await Promise.all([TestHub.start(), startHosts(3)]);
    h = world.hosts;
    await hub.apply(project('demo'), site(SITE), datacenter('stores', { site: SITE }));
    agent = await TestAgent.join(hub, { site: SITE }, 'site');
    // What an operator does once per host: authorize the line `outpost-agent ssh-key` prints.
    const key = await run(OUTPOST_AGENT, ['ssh-key', '--data', agent.dataDir]);
    expect(key.code).toBe(0);
    for (const t of h) appendFileSync(join(t.dir, 'authorized_keys'), key.stdout);
    agent.start(['--log-level', 'warn']);
  });
  afterAll(async () => {
    await agent?.stop();
    await Promise.all([hub?.stop(), world?.stop()]);
  });

  it('probes a host whose key is pinned: verified, reachable, and what it is', async () => {
    await hub.apply(hostObj('host-0', h[0]!, h[0]!.hostKeyFingerprint));
    const c = await settled('host-0', 'PreflightPassed', 'True');
    expect(c.HostKeyVerified).toMatchObject({ status: 'True', message: `presented the pinned key ${h[0]!.hostKeyFingerprint}` });
    expect(c.Reachable).toMatchObject({ status: 'True', message: `root@${h[0]!.address}:22 answered` });
    // The probe ran on the host itself: the machine's OS and architecture, and the test host runs no kubelet.
    expect(c.PreflightPassed!.message).toMatch(/^\w+ [\d.]*, linux\/(amd64|arm64), kernel \S+, cgroup v[12], swap (on|off), clock skew [+-]\d+\.\d\d s, (no kubelet|kubelet at \S+)/);
  });

  it('stops a host whose key is not the pinned one, naming the key it presented, and runs nothing there', async () => {
    // Pinned to host-2's key, but the address is host-1's: as if host-1 had been replaced.
    await hub.apply(hostObj('host-1', h[1]!, h[2]!.hostKeyFingerprint));
    const c = await settled('host-1', 'HostKeyVerified', 'False');
    expect(c.HostKeyVerified).toMatchObject({ reason: 'HostKeyChanged' });
    expect(c.HostKeyVerified!.message).toContain(`presented host key ${h[1]!.hostKeyFingerprint}, not the pinned ${h[2]!.hostKeyFingerprint}; nothing was run`);
    expect(c.Reachable).toMatchObject({ status: 'Unknown', reason: 'HostKeyNotVerified' });
    expect(c.PreflightPassed).toMatchObject({ status: 'Unknown' });
    // The operator checks and pins the right key: the host is probed.
    await hub.api().patch(K('hosts'), 'host-1', { spec: { hostKey: h[1]!.hostKeyFingerprint } });
    expect((await settled('host-1', 'PreflightPassed', 'True')).HostKeyVerified!.status).toBe('True');
  });

  it('stops a host that pins no key, saying what to pin', async () => {
    await hub.apply(hostObj('host-2', h[2]!, ''));
    const c = await settled('host-2', 'HostKeyVerified', 'False');
    expect(c.HostKeyVerified).toMatchObject({ reason: 'HostKeyUnknown' });
    expect(c.HostKeyVerified!.message).toContain(`set spec.hostKey: ${h[2]!.hostKeyFingerprint}`);
  });

  it('says a host is unreachable, and keeps the private key on the agent', async () => {
    await hub.apply({ ...hostObj('gone', h[0]!, h[0]!.hostKeyFingerprint), spec: { ...hostObj('gone', h[0]!, h[0]!.hostKeyFingerprint).spec, sshPort: 2 } });
    const c = await settled('gone', 'Reachable', 'False');
    expect(c.Reachable).toMatchObject({ reason: 'Unreachable' });
    expect(c.Reachable!.message).toContain(`cannot reach host gone (${h[0]!.address}:2)`);
    // Only the public line left the agent's data directory.
    expect(existsSync(join(agent.dataDir, 'ssh', 'id_ed25519'))).toBe(true);
    const hubFiles = await run('grep', ['-rl', 'OPENSSH PRIVATE KEY', hub.dir]);
    expect(hubFiles.stdout.split('\n').filter((f) => f && !f.startsWith(agent.dataDir))).toEqual([]);
  });
});
