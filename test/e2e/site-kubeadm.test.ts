// Site mode end to end, as an operator runs it: a hub with the test world's Release imported, a site
// agent whose SSH key the world's bare kubeadm-capable hosts authorize, Hosts with pinned keys, and a
// kubeadm Cluster of one control plane and two static workers. The agent installs everything from its
// artifact cache over SSH, runs kubeadm init and joins, and reports the nodes Ready; `outpost kubeconfig`
// reaches the cluster's own API, with kube-proxy on every node and CoreDNS Available; pods on the two
// workers reach each other over the bridge pod network and resolve Service names through CoreDNS;
// deleting the Cluster resets every host.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeadmSite, type KubeadmSite } from '../lib/kubeadm-site.js';
import { type TestAgent, type TestHub, waitFor } from '../lib/processes.js';
import { binary, VERSIONS } from '../world/binaries.js';
import type { KubeadmHost, KubeadmHosts } from '../world/kubeadm-hosts.js';

const K = (n: string) => findKind(n)!;
/** A drain bounded at 10 s, so one a PodDisruptionBudget blocks fails its attempt quickly. */
const AGENT_ARGS = ['--log-level', 'info', '--heal-interval', '10', '--drain-timeout', '10'];
const VERSION = VERSIONS.kubernetes.replace(/^v/, '');

describe('a kubeadm cluster on bare site hosts, made by the site agent over SSH', () => {
  let siteEnv: KubeadmSite;
  let hub: TestHub;
  let agent: TestAgent;
  let world: KubeadmHosts;
  let kubeconfig: string;
  /** The cluster's first three hosts; the fourth joins later. */
  const hosts = (): KubeadmHost[] => world.hosts.slice(0, 3);
  const outpost = (...args: string[]) => siteEnv.outpost(...args);
  const kubectl = (...args: string[]) => spawnSync(binary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 60_000 });
  const ssh = (h: KubeadmHost, command: string): Promise<string> => siteEnv.ssh(h, command);
  const cluster = () => hub.api().get<Cluster>(K('clusters'), 'pos', 'demo');
  /** When each host's kubelet credential was written: a host joined again gets a new one. */
  const joinedAt = (of: KubeadmHost[]) => Promise.all(of.map((h) => ssh(h, 'stat -c %Y /etc/kubernetes/kubelet.conf')));
  /** A host as the reset leaves it: no kubelet or containerd running, nothing in /etc/kubernetes or /var/lib/kubelet. */
  const expectReset = async (h: KubeadmHost) => {
    expect(await ssh(h, 'systemctl is-active kubelet; systemctl is-active containerd; find /etc/kubernetes /var/lib/kubelet -mindepth 1 2>/dev/null | wc -l'), h.name).toMatch(/^(inactive|unknown|failed)\n(inactive|unknown|failed)\n\s*0\s*$/);
  };

  beforeAll(async () => {
    siteEnv = await startKubeadmSite({ hosts: 4 });
    ({ hub, agent, world } = siteEnv);
    agent.start(AGENT_ARGS);
  }, 300_000);
  afterAll(async () => {
    await siteEnv?.stop();
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

  it('reaches the cluster with `outpost kubeconfig`: three nodes, kube-proxy on each, CoreDNS Available', async () => {
    const r = await outpost('kubeconfig', 'pos', '-n', 'demo', '--expiration', '1h');
    expect(r.code, r.stderr).toBe(0);
    kubeconfig = join(hub.dir, 'pos.kubeconfig');
    writeFileSync(kubeconfig, r.stdout);
    const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
    expect(nodes.status, nodes.stderr).toBe(0);
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(hosts().map((h) => `${h.name}=True`).sort());
    await waitFor('kube-proxy on every node', () => {
      const ds = kubectl('get', 'ds', 'kube-proxy', '-n', 'kube-system', '-o', 'jsonpath={.status.numberAvailable}');
      return ds.stdout.trim() === '3';
    }, 120_000, 2_000).catch((err: Error) => {
      const pods = kubectl('get', 'pods', '-n', 'kube-system', '-o', 'wide');
      const logs = kubectl('logs', '-n', 'kube-system', 'ds/kube-proxy', '--tail', '5');
      throw new Error(`${err.message}\n${pods.stdout}\n${logs.stdout}${logs.stderr}`);
    });
    // kubeadm's DNS addon, from the Release's CoreDNS image (the world builds it from its Go module).
    const image = kubectl('get', 'deploy', 'coredns', '-n', 'kube-system', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(image.stdout, image.stderr).toBe(`outpost.local/coredns:${VERSIONS.coredns}`);
    const available = kubectl('wait', '-n', 'kube-system', '--for=condition=Available', 'deploy/coredns', '--timeout=120s');
    if (available.status !== 0) {
      const logs = kubectl('logs', '-n', 'kube-system', 'deploy/coredns', '--tail', '20');
      throw new Error(`CoreDNS not Available: ${available.stderr}\n${kubectl('get', 'pods', '-n', 'kube-system', '-o', 'wide').stdout}\n${logs.stdout}${logs.stderr}`);
    }
  });

  it('runs a pod on each worker, and one reaches the other across the bridge pod network', async () => {
    const [, w1, w2] = hosts() as [KubeadmHost, KubeadmHost, KubeadmHost];
    // A test workload: the world's busybox, put on the workers as the Release's images are.
    for (const w of [w1, w2]) await siteEnv.importBusybox(w);
    const pod = (name: string, node: string, command: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: node, containers: [{ name, image: 'outpost.local/busybox:test', imagePullPolicy: 'Never', command: ['sh', '-c', command] }] },
    });
    const manifest = join(hub.dir, 'pods.json');
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('server', w1.name, 'echo hello from $(hostname) > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'), pod('client', w2.name, 'exec sleep 3600')] }));
    const applied = kubectl('apply', '-f', manifest);
    expect(applied.status, applied.stderr).toBe(0);
    const ready = kubectl('wait', '--for=condition=Ready', 'pod/server', 'pod/client', '--timeout=120s');
    expect(ready.status, `${ready.stderr}\n${kubectl('describe', 'pod', 'server', 'client').stdout}`).toBe(0);
    const ip = kubectl('get', 'pod', 'server', '-o', 'jsonpath={.status.podIP}').stdout.trim();
    // The pods' addresses are the slices Outpost gave their nodes.
    expect(ip).toMatch(/^10\.244\.\d+\.\d+$/);
    const got = await waitFor('the client reaching the server', () => {
      // nc, not busybox's wget: Debian's static busybox wget crashes (exit 139) even on loopback.
      const r = kubectl('exec', 'client', '--', 'sh', '-c', `printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ip} 8080`);
      return r.status === 0 && r.stdout;
    }, 60_000, 2_000);
    expect(got).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(got.trim().split('\n').at(-1)).toBe('hello from server');
    // Cluster DNS from a worker's pod: CoreDNS, reached at the kube-dns Service's address through
    // kube-proxy's rules, answers with the kubernetes Service's address.
    const serviceIp = kubectl('get', 'svc', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}').stdout.trim();
    expect(serviceIp).toMatch(/^10\.96\.\d+\.\d+$/);
    // busybox prints the server it asked first, then the answer (after "Name:"), and may fail the AAAA
    // query (the Service has no IPv6 address) however the A query went: the answer is what is checked.
    const answerOf = (out: string) => (out.includes('Name:') ? out.slice(out.indexOf('Name:')) : '');
    const resolved = await waitFor('kubernetes.default.svc.cluster.local resolved in the client pod', () => {
      const r = kubectl('exec', 'client', '--', 'nslookup', 'kubernetes.default.svc.cluster.local');
      return answerOf(r.stdout) && r.stdout;
    }, 60_000, 2_000).catch((err: Error) => {
      const r = kubectl('exec', 'client', '--', 'sh', '-c', 'cat /etc/resolv.conf; nslookup kubernetes.default.svc.cluster.local');
      throw new Error(`${err.message}\n${r.stdout}${r.stderr}`);
    });
    expect(answerOf(resolved)).toMatch(/^Name:\s+kubernetes\.default\.svc\.cluster\.local\s/);
    expect(answerOf(resolved)).toMatch(new RegExp(`Address(?: \\d+)?:\\s*${serviceIp.replaceAll('.', '\\.')}(\\s|$)`));
  });

  it('stops at a host whose key is not the pinned one, running nothing there, and goes on once it is right', async () => {
    const w1 = hosts()[1]!;
    await hub.api().patch(K('hosts'), w1.name, { spec: { hostKey: world.hosts[3]!.hostKeyFingerprint } });
    const refused = await waitFor('the changed key in lastErrors', async () => {
      const c = await cluster();
      return c.status?.lastErrors?.find((e) => e.host === w1.name && /presented host key/.test(e.message ?? ''));
    }, 60_000, 500);
    expect(refused.step).toBe(`probe:${w1.name}`);
    expect(refused.message).toContain(`presented host key ${w1.hostKeyFingerprint}, not the pinned ${world.hosts[3]!.hostKeyFingerprint}; nothing was run`);
    await hub.api().patch(K('hosts'), w1.name, { spec: { hostKey: w1.hostKeyFingerprint } });
    await waitFor('Running again with no errors', async () => {
      const c = await cluster();
      return c.status?.phase === 'Running' && c.status.conditions?.find((x) => x.type === 'NodesReady')?.status === 'True' && !c.status.lastErrors?.length;
    }, 120_000, 1_000);
  });

  it('adds a worker without touching the others, and resumes after an agent kill -9 in the middle of its join', async () => {
    const added = world.hosts[3]!;
    const before = await joinedAt(hosts());
    const t0 = Date.now();
    await hub.api().patch(K('clusters'), 'pos', { spec: { workers: [{ name: 'tills', hosts: [hosts()[1]!.name, hosts()[2]!.name, added.name] }] } }, 'demo');
    await waitFor(`the join of ${added.name} under way`, async () => (await cluster()).status?.lastOperation?.step?.includes(`join:${added.name}`), 240_000, 200);
    await agent.stop('SIGKILL');
    agent.start(AGENT_ARGS);
    const c = await waitFor('four nodes Ready', async () => {
      const got = await cluster();
      return got.status?.phase === 'Running' && got.status.observedGeneration === got.metadata.generation && got.status.nodes?.length === 4 && got.status.nodes.every((n) => n.state === 'Ready') && got;
    }, 300_000, 1_000);
    process.stderr.write(`one worker added (through a kill -9 of the agent) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(c.status?.nodes?.map((n) => n.host)).toEqual([...hosts().map((h) => h.name), added.name]);
    // The others were not joined again.
    expect(await joinedAt(hosts())).toEqual(before);
  }, 600_000);

  it('takes that worker out again: a drain a PodDisruptionBudget blocks says so and is retried, a kill -9 resumes, its node goes, its host is reset, the others are untouched', async () => {
    const removed = world.hosts[3]!;
    const [cp, w1, w2] = hosts() as [KubeadmHost, KubeadmHost, KubeadmHost];
    /** Each node's identity: a node joined again, or re-registered, has a new uid and creationTimestamp. */
    const nodes = () => {
      const r = kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {.metadata.creationTimestamp} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').sort();
    };
    // A workload the drain cannot evict while its budget holds: one replica, only on the removed host.
    await siteEnv.importBusybox(removed);
    const manifest = join(hub.dir, 'held.json');
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'held', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'held' } }, template: { metadata: { labels: { app: 'held' } }, spec: { nodeSelector: { 'kubernetes.io/hostname': removed.name }, terminationGracePeriodSeconds: 1, containers: [{ name: 'held', image: 'outpost.local/busybox:test', imagePullPolicy: 'Never', command: ['sleep', '3600'] }] } } } },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'held', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'held' } } } },
    ] }));
    const applied = kubectl('apply', '-f', manifest);
    expect(applied.status, applied.stderr).toBe(0);
    const rolled = kubectl('rollout', 'status', 'deploy/held', '--timeout=120s');
    expect(rolled.status, `${rolled.stderr}\n${kubectl('get', 'pods', '-o', 'wide').stdout}`).toBe(0);

    const others = nodes().filter((n) => !n.startsWith(`${removed.name} `));
    expect(others).toHaveLength(3);
    const before = await joinedAt(hosts());
    const t0 = Date.now();
    const patched = await hub.api().patch<Cluster>(K('clusters'), 'pos', { spec: { workers: [{ name: 'tills', hosts: [w1.name, w2.name] }] } }, 'demo');
    const blocked = await waitFor('the blocked drain in lastErrors', async () => (await cluster()).status?.lastErrors?.find((e) => e.step === `drain:${removed.name}`), 120_000, 500);
    expect(blocked.host).toBe(removed.name);
    expect(blocked.message).toMatch(new RegExp(`^the drain of node ${removed.name} did not finish \\(it may take 10 s\\); kubectl said: .*disruption budget`));
    const during = await cluster();
    expect(during.status?.nodes?.find((n) => n.host === removed.name)?.state).toBe('Removing');
    // Nothing was taken from the host while its drain is blocked.
    expect(kubectl('get', 'node', removed.name, '-o', 'jsonpath={.spec.unschedulable}').stdout).toBe('true');
    expect(kubectl('delete', 'pdb', 'held').status).toBe(0);

    // Killed once the drain is past: the run resumes from the journal, at the step it was on.
    const steps = new Set<string>();
    const seen = (got: Cluster) => {
      for (const s of got.status?.lastOperation?.step?.split(/[ ,]+/) ?? []) if (s) steps.add(s);
    };
    const resetting = await waitFor(`delete-node or reset of ${removed.name} under way`, async () => {
      const got = await cluster();
      seen(got);
      return steps.has(`delete-node:${removed.name}`) || steps.has(`reset:${removed.name}`);
    }, 120_000, 200);
    expect(resetting).toBe(true);
    await agent.stop('SIGKILL');
    agent.start(AGENT_ARGS);
    const c = await waitFor(`${removed.name} taken out`, async () => {
      const got = await cluster();
      seen(got);
      const done = got.status?.conditions?.find((x) => x.type === 'HostsRemoved' && x.observedGeneration === patched.metadata.generation);
      return got.status?.phase === 'Running' && done?.status === 'True' && got;
    }, 300_000, 500);
    process.stderr.write(`one worker taken out (a blocked drain, then a kill -9 of the agent) in ${((Date.now() - t0) / 1000).toFixed(1)} s; steps seen: ${[...steps].join(' ')}\n`);
    expect(c.status?.conditions?.find((x) => x.type === 'HostsRemoved')?.message).toBe(`${removed.name}: drained, node deleted, host reset`);
    expect(c.status?.nodes?.map((n) => `${n.host}=${n.state}`)).toEqual([cp, w1, w2].map((h) => `${h.name}=Ready`));
    // Its node is gone; the others are the same nodes as before, Ready, their kubelets not joined again.
    expect(nodes()).toEqual(others);
    expect(others.every((n) => n.endsWith(' True'))).toBe(true);
    expect(await joinedAt(hosts())).toEqual(before);
    await expectReset(removed);
    expect(kubectl('delete', 'deploy', 'held').status).toBe(0);
  }, 420_000);

  it('repairs a worker whose kubelet was killed and its config removed', async () => {
    const w2 = hosts()[2]!;
    const was = await ssh(w2, 'stat -c %Y /etc/kubernetes/kubelet.conf');
    await ssh(w2, 'systemctl stop kubelet; rm -f /etc/kubernetes/kubelet.conf; systemctl start kubelet');
    const brokenAt = Date.now();
    await waitFor(`${w2.name} joined again and its node Ready`, async () => {
      const now = await ssh(w2, 'stat -c %Y /etc/kubernetes/kubelet.conf 2>/dev/null');
      const ready = kubectl('get', 'node', w2.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}').stdout;
      return now.trim() !== '' && now !== was && ready === 'True';
    }, 300_000, 2_000);
    // And the Cluster says so, from a run that ended after the repair.
    await waitFor('status.nodes from a run after the repair', async () => {
      const c = await cluster();
      return c.status?.lastOperation?.state === 'Succeeded' && Date.parse(c.status.lastOperation.lastUpdateTime ?? '') > brokenAt && c.status.nodes?.every((n) => n.state === 'Ready');
    }, 120_000, 1_000);
  }, 360_000);

  it('resets every host when the Cluster is deleted: no kubelet or containerd running, nothing in /etc/kubernetes', async () => {
    await hub.api().delete(K('clusters'), 'pos', 'demo');
    await waitFor('pos gone', async () => !(await cluster().catch(() => undefined)), 300_000, 1_000);
    for (const h of world.hosts) await expectReset(h);
  }, 360_000);
});
