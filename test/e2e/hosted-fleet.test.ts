// Two hosted control planes on one real seed: a hub process, one seed agent process and the test world's
// Kubernetes. Clusters A (1.34.3) and B (1.34.4) turn Running and answer kubectl through their own
// `outpost kubeconfig`; A's credentials are refused by B; A's patch upgrade rolls the apiserver first and
// the API answers throughout; a deleted apiserver pod of B is healed (found by the agent's watch: its
// periodic heal is an hour away); B's leaves are renewed at 2/3 of their (short) lifetime with no request
// failing and neither etcd nor the apiserver restarted, and B works past the old leaves' expiry; and hub.db holds no private key
// in the clear after all of it.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { findKind, type Cluster } from '@outpost/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cluster, datacenter, project, seed } from '../lib/fixtures.js';
import { OUTPOST, run, TestAgent, TestHub, waitFor, type RunResult } from '../lib/processes.js';
import { binary } from '../world/binaries.js';
import { worldReleases } from '../world/releases.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MANIFESTS = join(ROOT, 'deploy/seed-agent');
const K = (n: string) => findKind(n)!;
const NS = { a: 'cluster-p-a', b: 'cluster-p-b' } as const;
// Short enough that B's leaves are renewed within this file (at 2/3 of it), long enough that the renewal
// does not fall in the first tests' way, and that the last third (120 s) outlasts kubelet's refresh of a
// Secret volume (its sync period, 1 minute plus up to 30 s of jitter) should the agent's nudge be missed:
// etcd and the apiserver are not restarted on a renewal, they read the refreshed files, which must be there
// before the old leaves expire. 240 s left 80 s.
const LEAF_LIFETIME_S = 360;
const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: { name: string; user: Record<string, string> }[];
}

/** The serving certificate an endpoint presents (not verified: the test only reads it), with a client certificate if it wants one. */
function servingCert(endpoint: string, client?: { cert: string; key: string }): Promise<{ notBefore: Date; notAfter: Date; serial: string }> {
  const u = new URL(endpoint);
  return new Promise((done, fail) => {
    const s = connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false, servername: undefined, ...client }, () => {
      const c = s.getPeerCertificate();
      s.end();
      done({ notBefore: new Date(c.valid_from), notAfter: new Date(c.valid_to), serial: c.serialNumber });
    });
    s.setTimeout(5_000, () => s.destroy(new Error(`no TLS handshake with ${endpoint} in 5 s`)));
    s.on('error', fail);
  });
}

describe('a fleet of hosted control planes on one seed', () => {
  let world: SeedCluster;
  let hub: TestHub;
  let agent: TestAgent;
  let seedKubeconfig: string;
  let env: NodeJS.ProcessEnv;
  const kc = (name: 'a' | 'b') => join(hub.dir, `${name}.kubeconfig`);

  const getCluster = (name: string) => hub.api().get<Cluster>(K('clusters'), name, 'p');
  const condition = (c: Cluster, type: string) => c.status?.conditions?.find((x) => x.type === type);
  const kubectl = (kubeconfig: string, ...args: string[]): Promise<RunResult> =>
    new Promise((done) => {
      execFile(binary('kubectl'), ['--kubeconfig', kubeconfig, '--cache-dir', join(hub.dir, 'kube-cache'), ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }));
    });
  // The seed, asked without blocking the event loop (world.kubectl is synchronous): the /readyz poller keeps its pace.
  const seedGet = async (...args: string[]): Promise<string> => {
    const r = await kubectl(world.kubeconfigPath, ...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const running = (name: string, timeoutMs = 180_000) =>
    waitFor(`${name} Running`, async () => {
      const c = await getCluster(name);
      return c.status?.phase === 'Running' && c.status.observedGeneration === c.metadata.generation && c;
    }, timeoutMs, 500);

  /**
   * Reads the `default` namespace (a request that needs etcd) with a kubeconfig every ~500 ms until
   * stopped; keeps the requests that failed. Not `/readyz`: an apiserver being replaced says "not ready"
   * there on purpose for its shutdown delay, while it still serves every request routed to it.
   */
  function apiPoller(kubeconfig: string) {
    let stop = false;
    const failures: string[] = [];
    let polls = 0;
    const done = (async () => {
      while (!stop) {
        const started = Date.now();
        const r = await kubectl(kubeconfig, 'get', '--raw', '/api/v1/namespaces/default', '--request-timeout', '5s');
        polls++;
        if (r.code !== 0 || !r.stdout.includes('"name":"default"')) failures.push(`${new Date().toISOString()} ${r.stderr.trim() || r.stdout.trim()}`);
        await new Promise((t) => setTimeout(t, Math.max(0, 500 - (Date.now() - started))));
      }
    })();
    return { failures, polls: () => polls, stop: async () => ((stop = true), await done) };
  }

  beforeAll(async () => {
    [world, hub] = await Promise.all([startSeedCluster(), TestHub.start({ heartbeatMs: 500 })]);
    world.kubectl('apply', '-f', join(MANIFESTS, '00-namespace.yaml'), '-f', join(MANIFESTS, '10-rbac.yaml'));
    const token = world.kubectl('create', 'token', 'outpost-agent', '-n', 'outpost-system', '--duration=1h').trim();
    seedKubeconfig = join(hub.dir, 'seed-agent.kubeconfig');
    writeFileSync(seedKubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: seed, cluster: {server: '${world.apiServerUrl}', certificate-authority: '${join(world.dir, 'pki', 'ca.crt')}'}}]
users: [{name: outpost-agent, user: {token: '${token}'}}]
contexts: [{name: seed, context: {cluster: seed, user: outpost-agent}}]
current-context: seed
`);
    await hub.apply(project('p'), ...worldReleases(), seed('fra-1'), datacenter('dc-fra', { seed: 'fra-1' }));
    agent = await TestAgent.join(hub, { seed: 'fra-1' }, 'seed');
    agent.start(['--heal-interval', '3600', '--leaf-cert-lifetime', String(LEAF_LIFETIME_S)], { kubeconfig: seedKubeconfig });
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await run(OUTPOST, ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')], { env });
    expect(login.code, login.stderr).toBe(0);
  }, 120_000);
  afterEach(async (t) => {
    if (t.task.result?.state !== 'fail') return;
    for (const name of ['a', 'b'] as const) process.stderr.write(`status of ${name}: ${JSON.stringify((await getCluster(name).catch(() => undefined))?.status, null, 1)}\nseed:\n${await seedGet('get', 'all,events', '-n', NS[name]).catch((e: Error) => e.message)}\n`);
    process.stderr.write(`agent log (tail):\n${agent.proc?.stderr.slice(-6000)}\n`);
  });
  afterAll(async () => {
    await Promise.all(['a', 'b'].map((n) => hub?.api().delete(K('clusters'), n, 'p').catch(() => undefined)));
    if (hub && agent?.proc) {
      await waitFor('both Clusters gone', async () => (await Promise.all(['a', 'b'].map((n) => getCluster(n).then(() => false, () => true)))).every(Boolean), 60_000, 500).catch(() => undefined);
    }
    await agent?.stop();
    await hub?.stop();
    await world?.stop();
  }, 120_000);

  it('runs A at 1.34.3 and B at 1.34.4 side by side, each reached through its own outpost kubeconfig', async () => {
    await hub.apply(cluster('a', 'p', 'dc-fra', { mode: 'hosted', version: '1.34.3' }), cluster('b', 'p', 'dc-fra', { mode: 'hosted', version: '1.34.4' }));
    const [a, b] = await Promise.all([running('a'), running('b')]);
    expect(a.status?.endpoint).not.toBe(b.status?.endpoint);
    for (const c of [a, b]) for (const type of ['APIServerReady', 'ControllerManagerReady', 'SchedulerReady']) expect(`${c.metadata.name} ${type}=${condition(c, type)?.status}`).toBe(`${c.metadata.name} ${type}=True`);
    for (const [name, version] of [['a', 'v1.34.3'], ['b', 'v1.34.4']] as const) {
      const written = await run(OUTPOST, ['kubeconfig', name, '-n', 'p', '--expiration', '30m', '-o', kc(name)], { env });
      expect(written.code, written.stderr).toBe(0);
      const ns = await kubectl(kc(name), 'get', 'ns', '-o', 'name');
      expect(ns.code, ns.stderr).toBe(0);
      expect(ns.stdout).toContain('namespace/kube-system');
      const v = await kubectl(kc(name), 'get', '--raw', '/version');
      expect(JSON.parse(v.stdout).gitVersion).toBe(version);
    }
  }, 240_000);

  it("refuses A's credentials at B's endpoint", async () => {
    const a = parse(readFileSync(kc('a'), 'utf8')) as Kubeconfig;
    const b = parse(readFileSync(kc('b'), 'utf8')) as Kubeconfig;
    // A's client certificate with B's server and B's CA: the TLS is B's, the client is not B's CA's.
    const crossed = structuredClone(b);
    crossed.users[0]!.user = a.users[0]!.user;
    writeFileSync(join(hub.dir, 'a-at-b.kubeconfig'), stringify(crossed));
    const refused = await kubectl(join(hub.dir, 'a-at-b.kubeconfig'), 'get', 'ns');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Unauthorized|must be logged in/);
    // A's kubeconfig as it is, pointed at B's server: B's serving certificate is not A's CA's.
    const pointed = structuredClone(a);
    pointed.clusters[0]!.cluster.server = b.clusters[0]!.cluster.server;
    writeFileSync(join(hub.dir, 'a-pointed-at-b.kubeconfig'), stringify(pointed));
    const untrusted = await kubectl(join(hub.dir, 'a-pointed-at-b.kubeconfig'), 'get', 'ns');
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/x509: certificate signed by unknown authority|certificate is not trusted/);
  });

  it('upgrades A 1.34.3 → 1.34.4: Updating then Running, the apiserver rolled first, the API answering throughout', async () => {
    const poller = apiPoller(kc('a'));
    const phases = new Set<string>();
    // When each Deployment's spec first named the new image, and when its rollout of it had finished.
    const specAt: Record<string, number> = {};
    const rolledAt: Record<string, number> = {};
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [c, deployments] = await Promise.all([getCluster('a'), seedGet('get', 'deployments', '-n', NS.a, '-o', 'json')]);
        if (c.status?.phase) phases.add(c.status.phase);
        for (const d of (JSON.parse(deployments) as { items: { metadata: { name: string; generation: number }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number } }[] }).items) {
          const name = d.metadata.name;
          if (!d.spec.template.spec.containers[0]!.image.endsWith(':v1.34.4')) continue;
          specAt[name] ??= Date.now();
          const s = d.status;
          if (s.observedGeneration === d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.availableReplicas === d.spec.replicas && s.replicas === d.spec.replicas) rolledAt[name] ??= Date.now();
        }
        await new Promise((t) => setTimeout(t, 300));
      }
    })();
    try {
      const before = await getCluster('a');
      await hub.api().patch(K('clusters'), 'a', { spec: { version: '1.34.4' } }, 'p');
      await waitFor('A Updating', () => phases.has('Updating'), 60_000, 100);
      const after = await running('a');
      expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation ?? 0);
      await waitFor('every Deployment of A rolled to 1.34.4', () => COMPONENTS.every((c) => rolledAt[c] !== undefined), 60_000, 200);
    } finally {
      watching = false;
      await watcher;
      await poller.stop();
    }
    for (const c of COMPONENTS) expect(world.kubectl('get', 'deployment', c, '-n', NS.a, '-o', 'jsonpath={.spec.template.spec.containers[0].image}')).toBe(`outpost.local/${c}:v1.34.4`);
    // The controller-manager and scheduler are changed only once the new apiserver is out.
    expect(specAt['kube-controller-manager']).toBeGreaterThanOrEqual(rolledAt['kube-apiserver']!);
    expect(specAt['kube-scheduler']).toBeGreaterThanOrEqual(rolledAt['kube-apiserver']!);
    expect(JSON.parse((await kubectl(kc('a'), 'get', '--raw', '/version')).stdout).gitVersion).toBe('v1.34.4');
    // maxUnavailable 0 and the readiness probe on /readyz: the old apiserver serves until the new one is ready,
    // and through its shutdown delay while the Service's endpoints drop it.
    expect(poller.polls()).toBeGreaterThan(20);
    expect(poller.failures).toEqual([]);
  }, 240_000);

  it("heals B's deleted apiserver pod: the API answers again and B is Running with APIServerReady True", async () => {
    const selector = 'outpost.dev/component=kube-apiserver';
    const podsOf = async () => (await seedGet('get', 'pods', '-n', NS.b, '-l', selector, '-o', 'jsonpath={.items[*].metadata.uid}')).split(' ').filter(Boolean);
    const old = await podsOf();
    expect(old.length).toBeGreaterThan(0);
    await seedGet('delete', 'pod', '-n', NS.b, '-l', selector, '--wait=false');
    await waitFor("B's API answering from a new pod", async () => {
      const now = await podsOf();
      return now.length > 0 && now.every((u) => !old.includes(u)) && (await kubectl(kc('b'), 'get', 'ns', '-o', 'name')).stdout.includes('namespace/default');
    }, 120_000, 1_000);
    const healedAt = Date.now();
    const b = await waitFor('B Running with APIServerReady True after the deletion', async () => {
      const c = await getCluster('b');
      const ready = condition(c, 'APIServerReady');
      // A heal run finished after the new pod answered (a later periodic run may be Processing meanwhile).
      return c.status?.phase === 'Running' && ready?.status === 'True' && c.status.lastOperation?.state === 'Succeeded' && Date.parse(c.status.lastOperation.lastUpdateTime ?? '') >= healedAt - 1_000 && c;
    }, 60_000, 250);
    expect(condition(b, 'APIServerReady')?.message).toContain('readyz answers ok');
  });

  it("renews B's leaves at 2/3 of their lifetime with no request failing, etcd and the apiserver not restarted, and works past the old leaves' expiry", async () => {
    const b = await getCluster('b');
    const endpoint = b.status!.endpoint!;
    const first = await servingCert(endpoint);
    const etcdPod = async () => {
      const pods = JSON.parse(await seedGet('get', 'pods', '-n', NS.b, '-l', 'outpost.dev/component=etcd', '-o', 'json')) as { items: { metadata: { uid: string }; status: { containerStatuses?: { restartCount: number }[] } }[] };
      return pods.items.map((p) => `${p.metadata.uid} restarts=${p.status.containerStatuses?.[0]?.restartCount}`);
    };
    const etcdCert = async () => (await seedGet('get', 'secret', 'etcd-certs', '-n', NS.b, '-o', 'jsonpath={.data.server\\.crt}')).trim();
    const etcdBefore = await etcdPod();
    expect(etcdBefore).toHaveLength(1);
    expect(etcdBefore[0]).toMatch(/ restarts=0$/);
    const etcdCertBefore = await etcdCert();
    const apiPods = async () => (await seedGet('get', 'pods', '-n', NS.b, '-l', 'outpost.dev/component=kube-apiserver', '-o', 'jsonpath={.items[*].metadata.uid}')).split(' ').filter(Boolean);
    const apiBefore = await apiPods();
    const poller = apiPoller(kc('b'));
    try {
      const due = first.notBefore.getTime() + (first.notAfter.getTime() - first.notBefore.getTime()) * (2 / 3);
      const renewed = await waitFor('a renewed serving certificate', async () => {
        const c = await servingCert(endpoint).catch(() => undefined);
        return c && c.notBefore > first.notBefore && c;
      }, Math.max(0, due - Date.now()) + 90_000, 1_000);
      expect(renewed.serial).not.toBe(first.serial);
      // Not before it was due (a minute of slack for the signer's notBefore backdating).
      expect(Date.now()).toBeGreaterThan(due - 60_000);
      // etcd's leaves were renewed in its Secret too, and etcd serves the renewed one before the old expires
      // (kubelet refreshed its files, etcd read them on a new handshake). Seen through a NodePort the test
      // makes to etcd's client port, with etcd's own leaf (server and client usage) as the client certificate.
      await waitFor("etcd's renewed leaves in its Secret", async () => (await etcdCert()) !== etcdCertBefore, 60_000, 1_000);
      const probeSvc = join(hub.dir, 'etcd-probe.yaml');
      writeFileSync(probeSvc, stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'etcd-probe', namespace: NS.b }, spec: { type: 'NodePort', selector: { 'outpost.dev/component': 'etcd' }, ports: [{ port: 2379, targetPort: 2379 }] } }));
      await seedGet('apply', '-f', probeSvc);
      const etcdPort = (await seedGet('get', 'service', 'etcd-probe', '-n', NS.b, '-o', 'jsonpath={.spec.ports[0].nodePort}')).trim();
      const leafB64 = await etcdCert();
      const key = Buffer.from((await seedGet('get', 'secret', 'etcd-certs', '-n', NS.b, '-o', 'jsonpath={.data.server\\.key}')).trim(), 'base64').toString();
      const leaf = new X509Certificate(Buffer.from(leafB64, 'base64'));
      const etcdEndpoint = `https://${new URL(endpoint).hostname}:${etcdPort}`;
      await waitFor('etcd serving its renewed leaf', async () => {
        const c = await servingCert(etcdEndpoint, { cert: leaf.toString(), key }).catch(() => undefined);
        return c?.serial === leaf.serialNumber;
      }, Math.max(10_000, first.notAfter.getTime() - Date.now()), 2_000);
      await waitFor("the old leaves' expiry", () => Date.now() > first.notAfter.getTime() + 5_000, Math.max(0, first.notAfter.getTime() - Date.now()) + 30_000, 1_000);
    } finally {
      await poller.stop();
    }
    // Every request answered, through kubelet's refresh of the files, the controllers' roll and the old leaves' expiry.
    expect(poller.polls()).toBeGreaterThan(100);
    expect(poller.failures).toEqual([]);
    // etcd was not restarted: the same pod, its container never restarted; the apiserver serves its renewed
    // certificate from the same pod (it reloads its files).
    expect(await etcdPod()).toEqual(etcdBefore);
    expect(await apiPods()).toEqual(apiBefore);
    // A new apiserver must make new TLS connections to etcd, which now only its renewed leaf can answer.
    const old = await apiPods();
    await seedGet('delete', 'pod', '-n', NS.b, '-l', 'outpost.dev/component=kube-apiserver', '--wait=false');
    await waitFor("B's API answering from a new apiserver after the old leaves' expiry", async () => {
      const now = await apiPods();
      return now.length > 0 && now.every((u) => !old.includes(u)) && (await kubectl(kc('b'), 'get', '--raw', '/api/v1/namespaces/default')).stdout.includes('"name":"default"');
    }, 120_000, 1_000);
    expect(await etcdPod()).toEqual(etcdBefore);
  }, 600_000);

  it('keeps no private key in the clear in hub.db or its WAL', () => {
    const files = ['hub.db', 'hub.db-wal'].map((f) => join(hub.dataDir, f)).filter(existsSync);
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    // The search reads the right bytes: the public CA certificates are in the file.
    expect(bytes.includes(Buffer.from('BEGIN CERTIFICATE'))).toBe(true);
    expect(bytes.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
  });
});
