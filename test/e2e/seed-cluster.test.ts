// The seed cluster fixture against the real thing: Kubernetes built from source, a node whose Pods run
// in containerd, Services routed by kube-proxy, test hosts reachable from Pods, and the same world from
// the shell (`npm run world -- up|down`), side by side with the first.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../lib/processes.js';
import { binary } from '../world/binaries.js';
import { startHosts, type TestHosts } from '../world/hosts.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';
import { loadState, stillRuns, sweepOrphans, type WorldState } from '../world/world-state.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Asserts that nothing a world recorded is left on the machine. */
function expectGone(state: WorldState): void {
  for (const p of state.processes) expect(stillRuns(p), `${p.name} (${p.pid}) still runs`).toBe(false);
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const ns of state.netns) expect(netns.split('\n').map((l) => l.split(' ')[0])).not.toContain(ns);
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  for (const l of state.links) expect(links).not.toContain(`${l}@`);
  for (const cg of state.cgroups) expect(existsSync(`/sys/fs/cgroup/memory/${cg}`)).toBe(false);
  expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(state.dir);
  // kubelet's /var/log/containers links and containerd's shim sockets are machine-wide: none of ours may stay.
  const logLinks = existsSync('/var/log/containers') ? readdirSync('/var/log/containers').map((f) => readlinkSync(join('/var/log/containers', f))) : [];
  expect(logLinks.filter((l) => l.startsWith(`${state.dir}/`))).toEqual([]);
  const cniCache = existsSync('/var/lib/cni/results') ? readdirSync('/var/lib/cni/results') : [];
  expect(cniCache.filter((f) => f.startsWith(`seed-${state.info.slot}-`))).toEqual([]);
}

const shimSockets = (): string[] => (existsSync('/run/containerd/s') ? readdirSync('/run/containerd/s').sort() : []);

const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: outpost.local/busybox:test
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

const lastLine = (s: string): string | undefined => s.trim().split('\n').at(-1)?.trim() || undefined;

const world = (...args: string[]) => spawnSync('npx', ['tsx', 'test/world/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

describe('seed cluster: Kubernetes built from source, on this machine', () => {
  let seed: SeedCluster;
  let hosts: TestHosts;
  let state: WorldState;
  const socketsBefore = shimSockets();

  beforeAll(async () => {
    [seed, hosts] = await Promise.all([startSeedCluster(), startHosts(1)]);
    state = loadState(seed.dir);
  });
  afterAll(async () => {
    await seed?.stop();
    await hosts?.stop();
    if (state) {
      expectGone(state);
      expect(existsSync(state.dir)).toBe(false);
    }
    expect(shimSockets()).toEqual(socketsBefore);
    // the last seed gone, so is kubelet's fixed device-plugin socket
    expect(existsSync('/var/lib/kubelet/device-plugins/kubelet.sock')).toBe(false);
  });

  it('answers /readyz, and its kubeconfig works for @kubernetes/client-node and kubectl', async () => {
    expect(seed.kubectl('get', '--raw', '/readyz')).toBe('ok');
    const kc = new KubeConfig();
    kc.loadFromString(seed.kubeconfig);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual([seed.nodeName]);
    const ready = nodes.items[0]?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(seed.kubectl('get', 'nodes', '--no-headers')).toMatch(new RegExp(`^${seed.nodeName}\\s+Ready\\s`));
  });

  it('runs a Deployment of a locally built image and routes its Service', async () => {
    const manifest = join(seed.dir, 'web.yaml');
    writeFileSync(manifest, WEB);
    seed.kubectl('apply', '-f', manifest);
    seed.kubectl('rollout', 'status', 'deployment/web', '--timeout=180s');
    const pod = seed.kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}');
    const clusterIp = seed.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}');
    expect(clusterIp.startsWith(seed.layout.serviceCidr.replace(/0\/24$/, ''))).toBe(true);
    // From the node, through kube-proxy's rules, to the Pod (bash's /dev/tcp: Debian's static busybox wget crashes).
    const viaNode = await waitFor('the Service from the node', () => lastLine(seed.nodeExec('bash', ['-c', `exec 3<>/dev/tcp/${clusterIp}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 cat <&3`])), 120_000, 500);
    expect(viaNode).toBe(pod);
  });

  it('runs kubectl run with the test image, reaches the Service from another Pod, and mounts its service-account token', async () => {
    seed.kubectl('run', 'client', '--image=outpost.local/busybox:test', '--image-pull-policy=Never', '--', 'sleep', '3600');
    seed.kubectl('wait', '--for=condition=Ready', 'pod/client', '--timeout=120s');
    expect(seed.kubectl('get', 'pod', 'client', '-o', 'jsonpath={.status.phase}')).toBe('Running');
    const clusterIp = seed.kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}');
    const body = await waitFor('the Service from a Pod', () => lastLine(seed.kubectl('exec', 'client', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${clusterIp} 80`)), 120_000, 500);
    expect(body).toMatch(/^web-/);
    // kubelet's volume mounts are seen by the container: kubelet and containerd share a mount namespace.
    expect(seed.kubectl('exec', 'client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace')).toBe('default');
  });

  it('lets Pods reach the test hosts', async () => {
    const host = hosts.hosts[0]!;
    const banner = await waitFor('a test host from a Pod', () => seed.kubectl('exec', 'client', '--', 'sh', '-c', `nc -w 3 ${host.address} 22 </dev/null | head -c 7`) || undefined, 30_000, 500);
    expect(banner).toBe('SSH-2.0');
  });

  it('starts from the shell too, side by side with this one, and goes away with `down`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-world-cli-'));
    try {
      const up = world('up', '--dir', dir);
      expect(up.status, up.stderr).toBe(0);
      expect(up.stdout).toContain(`export KUBECONFIG=${join(dir, 'kubeconfig')}`);
      const cliState = loadState(dir);
      expect(cliState.netns).not.toEqual(state.netns);
      const kubectl = (...a: string[]) => execFileSync(binary('kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), ...a], { encoding: 'utf8' });
      kubectl('run', 't', '--image=outpost.local/busybox:test', '--image-pull-policy=Never', '--', 'sleep', '3600');
      await waitFor('pod t Running', () => (kubectl('get', 'pod', 't', '-o', 'jsonpath={.status.phase}') === 'Running' ? true : undefined), 120_000, 500);
      const status = world('status', '--dir', dir);
      expect(status.stdout).toMatch(/kubelet\s+pid \d+\s+running/);

      const down = world('down', '--dir', dir);
      expect(down.status, down.stderr).toBe(0);
      expectGone(cliState);
      expect(existsSync(join(dir, 'world-state.json'))).toBe(false);
      // The first seed is untouched.
      expect(seed.kubectl('get', 'pod', 'client', '-o', 'jsonpath={.status.phase}')).toBe('Running');
    } finally {
      if (existsSync(join(dir, 'world-state.json'))) world('down', '--dir', dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sweeps away a seed whose test run died without stopping it', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/e2e/fixtures/hold-seed.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((res, rej) => {
      let out = '';
      holder.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res(out.trim());
      });
      holder.once('exit', (code) => rej(new Error(`the holder exited (${code}) before its seed was up`)));
    });
    const orphan = loadState(dir);
    expect(orphan.ownerPid).toBe(holder.pid);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect(await sweepOrphans(tmpdir(), 'outpost-seed-')).toEqual([dir]);
    expectGone(orphan);
    expect(existsSync(dir)).toBe(false);
    // this test's own seed has a living owner: untouched
    expect(seed.kubectl('get', '--raw', '/readyz')).toBe('ok');
  });

  it('says what is wrong with bad input', () => {
    const noDir = world('up');
    expect(noDir.status).toBe(2);
    expect(noDir.stderr).toContain("required option '--dir <dir>'");
    const empty = mkdtempSync(join(tmpdir(), 'outpost-world-empty-'));
    try {
      const down = world('down', '--dir', empty);
      expect(down.status).toBe(1);
      expect(down.stderr).toContain('holds no test world');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const unknown = world('sideways');
    expect(unknown.status).toBe(2);
  });
});
