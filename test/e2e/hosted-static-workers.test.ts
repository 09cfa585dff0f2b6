// Static workers joined to a hosted control plane (KKP's hosted control plane with KubeOne's static
// workers), as an operator runs it: a hub with the test world's Release imported, a seed agent on the
// world's seed, a site agent whose SSH key the world's bare kubeadm hosts authorize, and a hosted Cluster
// whose one worker pool is two of the site's Hosts. The seed agent makes the control plane and makes it
// joinable; the site agent installs the hosts from its artifact cache and joins them with only the token
// and CA hash the hub delivered. Nothing dials into the site: its hosts dial the seed's endpoint (through
// this machine's root namespace, which routes between the hosts' bridge and the seed node's link). Cut
// off from it, the Cluster says so (EndpointReachable=False); deleted, its workers are reset.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, type Cluster } from '@outpost/proto';
import { site } from '@outpost/agent';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { datacenter, project, seed, site as siteObj } from '../lib/fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, TestAgent, TestHub, waitFor } from '../lib/processes.js';
import { binary, VERSIONS } from '../world/binaries.js';
import { startKubeadmHosts, type KubeadmHost, type KubeadmHosts } from '../world/kubeadm-hosts.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';

const K = (n: string) => findKind(n)!;
const SITE = 'shop-1';
const ROOT = join(import.meta.dirname, '..', '..');
const MANIFESTS = join(ROOT, 'deploy/seed-agent');
const VERSION = VERSIONS.kubernetes.replace(/^v/, '');

describe('static workers on site hosts joined to a hosted control plane on the test seed', () => {
  let hub: TestHub;
  let seedAgent: TestAgent;
  let siteAgent: TestAgent;
  let seedWorld: SeedCluster;
  let world: KubeadmHosts;
  let env: NodeJS.ProcessEnv;
  let seedKubeconfig: string;
  let kubeconfig: string;
  /** The iptables rule that cuts the hosts off from the endpoint, while it is in place. */
  let cut: string[] | undefined;
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
  const cluster = () => hub.api().get<Cluster>(K('clusters'), 'edge', 'p');
  const condition = (c: Cluster, type: string) => c.status?.conditions?.find((x) => x.type === type);
  const iptables = (op: '-I' | '-D', rule: string[]) => {
    const r = spawnSync('iptables', [op, 'FORWARD', ...rule], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`iptables ${op} FORWARD ${rule.join(' ')}: ${r.stderr}`);
  };

  beforeAll(async () => {
    [seedWorld, hub] = await Promise.all([startSeedCluster(), TestHub.start({ heartbeatMs: 500 })]);
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    expect((await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'))).code).toBe(0);
    const release = join(hub.dir, 'release');
    const written = spawnSync('npm', ['run', '--silent', 'world', '--', 'release', '--dir', release], { cwd: ROOT, encoding: 'utf8' });
    expect(written.status, written.stderr).toBe(0);
    const imported = await outpost('release', 'import', release);
    expect(imported.code, imported.stderr).toBe(0);

    seedWorld.kubectl('apply', '-f', join(MANIFESTS, '00-namespace.yaml'), '-f', join(MANIFESTS, '10-rbac.yaml'));
    const token = seedWorld.kubectl('create', 'token', 'outpost-agent', '-n', 'outpost-system', '--duration=1h').trim();
    seedKubeconfig = join(hub.dir, 'seed-agent.kubeconfig');
    writeFileSync(seedKubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: seed, cluster: {server: '${seedWorld.apiServerUrl}', certificate-authority: '${join(seedWorld.dir, 'pki', 'ca.crt')}'}}]
users: [{name: outpost-agent, user: {token: '${token}'}}]
contexts: [{name: seed, context: {cluster: seed, user: outpost-agent}}]
current-context: seed
`);
    await hub.apply(project('p'), seed('fra-1'), datacenter('dc-fra', { seed: 'fra-1' }), siteObj(SITE));
    seedAgent = await TestAgent.join(hub, { seed: 'fra-1' }, 'seed');
    siteAgent = await TestAgent.join(hub, { site: SITE }, 'site');
    const key = await run(OUTPOST_AGENT, ['ssh-key', '--data', siteAgent.dataDir]);
    world = await startKubeadmHosts({ count: 2, authorizedKeys: key.stdout });
    for (const h of world.hosts) {
      await hub.apply({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Host', metadata: { name: h.name }, spec: { site: SITE, address: h.address, sshPort: h.port, sshUser: 'root', hostKey: h.hostKeyFingerprint } });
    }
    seedAgent.start(['--heal-interval', '5'], { kubeconfig: seedKubeconfig });
    siteAgent.start(['--log-level', 'info', '--heal-interval', '10']);
  }, 300_000);
  afterEach(async (t) => {
    if (t.task.result?.state !== 'fail') return;
    process.stderr.write(`status: ${JSON.stringify((await cluster().catch(() => undefined))?.status, null, 1)}\nseed agent (tail):\n${seedAgent.proc?.stderr.slice(-4000)}\nsite agent (tail):\n${siteAgent.proc?.stderr.slice(-6000)}\n`);
  });
  afterAll(async () => {
    if (cut) iptables('-D', cut);
    await siteAgent?.stop();
    await seedAgent?.stop();
    await world?.stop();
    await seedWorld?.stop();
    await hub?.stop();
  }, 300_000);

  it('turns Running with both workers Ready in status.nodes, joined with a token and CA hash only', async () => {
    const [w1, w2] = world.hosts as [KubeadmHost, KubeadmHost];
    const t0 = Date.now();
    await hub.apply({
      apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'edge', namespace: 'p' },
      spec: { version: VERSION, datacenter: 'dc-fra', controlPlane: { mode: 'hosted' }, workers: [{ name: 'tills', hosts: [w1.name, w2.name] }], network: { podCidr: '10.248.0.0/16' } },
    });
    const running = await waitFor('edge Running with its workers Ready', async () => {
      const c = await cluster();
      return c.status?.phase === 'Running' && condition(c, 'WorkersJoined')?.status === 'True' && c;
      // About 7 minutes on this 2-core machine shared with other suites; the rest is headroom for a busier one.
    }, 840_000, 1_000);
    process.stderr.write(`apply → Running with 2 workers in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(running.status?.nodes).toEqual([
      { host: w1.name, role: 'worker', state: 'Ready', version: VERSIONS.kubernetes },
      { host: w2.name, role: 'worker', state: 'Ready', version: VERSIONS.kubernetes },
    ]);
    // Both agents' parts: the seed's control plane, the site's workers.
    expect(condition(running, 'APIServerReady')?.status).toBe('True');
    expect(condition(running, 'WorkersJoinable')?.status).toBe('True');
    expect(condition(running, 'EndpointReachable')?.status).toBe('True');
    expect(running.status?.endpoint).toMatch(/^https:\/\/10\.214\.\d+\.2:\d+$/);
    // Least privilege: the site agent holds no CA of the hosted cluster, nor do its workers.
    const ca = await ssh(w1, 'ls /etc/kubernetes/pki');
    expect(ca.trim()).toBe('ca.crt');
  }, 900_000);

  it('shows both workers Ready through `outpost kubeconfig`, kube-proxy running on each', async () => {
    const r = await outpost('kubeconfig', 'edge', '-n', 'p', '--expiration', '1h');
    expect(r.code, r.stderr).toBe(0);
    kubeconfig = join(hub.dir, 'edge.kubeconfig');
    writeFileSync(kubeconfig, r.stdout);
    const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
    expect(nodes.status, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(world.hosts.map((h) => `${h.name}=True`).sort());
    await waitFor('kube-proxy on both workers', () => kubectl('get', 'ds', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.status.numberAvailable}').stdout.trim() === '2', 180_000, 2_000).catch((err: Error) => {
      const pods = kubectl('get', 'pods', '-n', 'kube-system', '-o', 'wide');
      throw new Error(`${err.message}\n${pods.stdout}${pods.stderr}`);
    });
  }, 240_000);

  it('says EndpointReachable=False, and what to do, while the hosts cannot reach the endpoint', async () => {
    const endpoint = new URL((await cluster()).status!.endpoint!);
    cut = ['-s', `${world.hosts[0]!.address.replace(/\.\d+$/, '.0')}/24`, '-d', endpoint.hostname, '-p', 'tcp', '--dport', endpoint.port, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    iptables('-I', cut);
    const c = await waitFor('EndpointReachable=False', async () => {
      const got = await cluster();
      return condition(got, 'EndpointReachable')?.status === 'False' && got;
    }, 180_000, 1_000);
    const reachable = condition(c, 'EndpointReachable')!;
    expect(reachable.message).toContain(`cannot reach the control plane's endpoint ${endpoint.host}`);
    expect(reachable.message).toContain('open a route and the firewall from the site');
    expect(condition(c, 'WorkersJoined')?.status).toBe('False');
    // The seed's part is untouched by the site's report.
    expect(c.status?.phase).toBe('Running');
    iptables('-D', cut);
    cut = undefined;
    // The agent's retries back off meanwhile (up to minutes): the next one finds the way open again.
    await waitFor('EndpointReachable=True again', async () => condition(await cluster(), 'EndpointReachable')?.status === 'True', 330_000, 1_000);
  }, 540_000);

  it('resets both workers when the Cluster is deleted: no kubelet running, nothing in /etc/kubernetes', async () => {
    await hub.api().delete(K('clusters'), 'edge', 'p');
    await waitFor('edge gone', async () => !(await cluster().catch(() => undefined)), 300_000, 1_000);
    for (const h of world.hosts) {
      expect(await ssh(h, 'systemctl is-active kubelet; find /etc/kubernetes /var/lib/kubelet -mindepth 1 2>/dev/null | wc -l')).toMatch(/^(inactive|unknown|failed)\n\s*0\s*$/);
    }
    expect(seedWorld.kubectl('get', 'ns', 'cluster-p-edge', '--ignore-not-found').trim()).toBe('');
  }, 360_000);
});
