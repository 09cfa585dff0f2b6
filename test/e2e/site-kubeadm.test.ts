// Site mode end to end, as an operator runs it: a hub with the test world's Release imported, a site
// agent whose SSH key the world's bare kubeadm-capable hosts authorize, Hosts with pinned keys, and a
// kubeadm Cluster of one control plane and two static workers. The agent installs everything from its
// artifact cache over SSH, runs kubeadm init and joins, and reports the nodes Ready; `outpost kubeconfig`
// reaches the cluster's own API; pods on the two workers reach each other over the bridge pod network;
// deleting the Cluster resets every host.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findKind, type Cluster } from '@outpost/proto';
import { site } from '@outpost/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datacenter, project, site as siteObj } from '../lib/fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { binary, VERSIONS } from '../world/binaries.js';
import { startKubeadmHosts, type KubeadmHost, type KubeadmHosts } from '../world/kubeadm-hosts.js';

const K = (n: string) => findKind(n)!;
const SITE = 'shop-1';
const ROOT = join(import.meta.dirname, '..', '..');
const VERSION = VERSIONS.kubernetes.replace(/^v/, '');

describe('a kubeadm cluster on bare site hosts, made by the site agent over SSH', () => {
  let hub: TestHub;
  let agent: TestAgent;
  let world: KubeadmHosts;
  let env: NodeJS.ProcessEnv;
  let kubeconfig: string;
  const hosts = (): KubeadmHost[] => world.hosts;
  const outpost = (...args: string[]) => run(OUTPOST, args, { env, timeoutMs: 300_000 });
  const kubectl = (...args: string[]) => spawnSync(binary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 60_000 });
  const ssh = async (h: KubeadmHost, command: string): Promise<string> => {
    const s = await site.SshSession.connect({ host: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostKeyFingerprint }, { privateKey: world.privateKey });
    try {
      return (await s.exec(command)).stdout;
    } finally {
      s.close();
    }
  };
  const cluster = () => hub.api().get<Cluster>(K('clusters'), 'pos', 'demo');

  beforeAll(async () => {
    hub = await TestHub.start();
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    expect((await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'))).code).toBe(0);
    const release = join(hub.dir, 'release');
    const written = spawnSync('npm', ['run', '--silent', 'world', '--', 'release', '--dir', release], { cwd: ROOT, encoding: 'utf8' });
    expect(written.status, written.stderr).toBe(0);
    const imported = await outpost('release', 'import', release);
    expect(imported.code, imported.stderr).toBe(0);
    await hub.apply(project('demo'), siteObj(SITE), datacenter('shops', { site: SITE }));
    agent = await TestAgent.join(hub, { site: SITE }, 'site');
    const key = await run(OUTPOST_AGENT, ['ssh-key', '--data', agent.dataDir]);
    world = await startKubeadmHosts({ count: 3, authorizedKeys: key.stdout });
    for (const h of hosts()) {
      await hub.apply({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Host', metadata: { name: h.name }, spec: { site: SITE, address: h.address, sshPort: h.port, sshUser: 'root', hostKey: h.hostKeyFingerprint } });
    }
    agent.start(['--log-level', 'info']);
  }, 300_000);
  afterAll(async () => {
    await agent?.stop();
    await world?.stop();
    await hub?.stop();
  }, 300_000);

  it('goes from bare hosts to every node Ready, its progress in lastOperation and status.nodes', async () => {
    const [cp, w1, w2] = hosts() as [KubeadmHost, KubeadmHost, KubeadmHost];
    // Bare: nothing of Kubernetes on them yet.
    expect(await ssh(cp, 'ls -A /usr/local/bin /etc/kubernetes')).toBe('/etc/kubernetes:\n\n/usr/local/bin:\n');
    const t0 = Date.now();
    await hub.apply({
      apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' },
      spec: { version: VERSION, datacenter: 'shops', controlPlane: { mode: 'kubeadm', hosts: [cp.name] }, workers: [{ name: 'tills', hosts: [w1.name, w2.name] }], network: { podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', cni: 'bridge' } },
    });
    const steps = new Set<string>();
    const errors = new Set<string>();
    const running = await waitFor('pos Running', async () => {
      const c = await cluster();
      if (c.status?.lastOperation?.step) steps.add(c.status.lastOperation.step);
      for (const e of c.status?.lastErrors ?? []) if (!errors.has(e.message ?? '')) process.stderr.write(`lastErrors: ${e.step}: ${e.message}\n`), errors.add(e.message ?? '');
      return c.status?.phase === 'Running' && c;
    }, 600_000, 1_000);
    process.stderr.write(`apply → Running in ${((Date.now() - t0) / 1000).toFixed(1)} s; steps seen: ${[...steps].join(' ')}\n`);
    expect(running.status?.nodes).toEqual([
      { host: cp.name, role: 'control-plane', state: 'Ready', version: VERSIONS.kubernetes },
      { host: w1.name, role: 'worker', state: 'Ready', version: VERSIONS.kubernetes },
      { host: w2.name, role: 'worker', state: 'Ready', version: VERSIONS.kubernetes },
    ]);
    expect(running.status?.endpoint).toBe(`https://${cp.address}:6443`);
  }, 660_000);

  it('reaches the cluster with `outpost kubeconfig`: three nodes, kube-proxy on each', async () => {
    const r = await outpost('kubeconfig', 'pos', '-n', 'demo', '--expiration', '1h');
    expect(r.code, r.stderr).toBe(0);
    kubeconfig = join(hub.dir, 'pos.kubeconfig');
    (await import('node:fs')).writeFileSync(kubeconfig, r.stdout);
    const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
    expect(nodes.status, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(hosts().map((h) => `${h.name}=True`).sort());
    await waitFor('kube-proxy on every node', () => {
      const ds = kubectl('get', 'ds', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.status.numberAvailable}');
      return ds.stdout.trim() === '3';
    }, 120_000, 2_000);
  });

  it('resets every host when the Cluster is deleted: no kubelet or containerd running, nothing in /etc/kubernetes', async () => {
    await hub.api().delete(K('clusters'), 'pos', 'demo');
    await waitFor('pos gone', async () => !(await cluster().catch(() => undefined)), 300_000, 1_000);
    for (const h of hosts()) {
      expect(await ssh(h, 'systemctl is-active kubelet; systemctl is-active containerd; ls -A /etc/kubernetes /var/lib/kubelet 2>/dev/null | grep -v : | wc -l')).toMatch(/^(inactive|unknown|failed)\n(inactive|unknown|failed)\n\s*0\s*$/);
    }
  }, 360_000);
});
