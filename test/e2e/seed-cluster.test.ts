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
import { kindInfo, type Release } from '@outpost/proto';
import { OUTPOST, run, TestHub, waitFor } from '../lib/processes.js';
import { binary } from '../world/binaries.js';
import { startHosts, type TestHosts } from '../world/hosts.js';
import { missingImages, worldReleases, worldReleasesYaml } from '../world/releases.js';
import { startSeedCluster, type SeedCluster } from '../world/seed-cluster.js';
import { SEED_NETNS_PREFIX } from '../world/seed-config.js';
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

/** A Pod that runs `script` once with the claim `data` mounted at /data. */
const volumePod = (name: string, script: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: outpost.local/busybox:test
    imagePullPolicy: Never
    command: [sh, -c, '${script}']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`;

// no storageClassName: the seed's default class must be taken
const CLAIM = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`;

const lastLine = (s: string): string | undefined => s.trim().split('\n').at(-1)?.trim() || undefined;

const world = (...args: string[]) => spawnSync('npx', ['tsx', 'test/world/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

/** `outpost apply -f file` on a real hub takes the world's Releases, and they read back as written. */
async function expectHubAdmits(file: string): Promise<void> {
  const hub = await TestHub.start();
  try {
    const apply = await run(OUTPOST, ['apply', '-f', file], { env: await hub.loginCli() });
    expect(apply.code, apply.stderr).toBe(0);
    for (const want of worldReleases()) expect((await hub.api().get<Release>(kindInfo('Release'), want.metadata.name ?? '')).spec).toMatchObject(want.spec ?? {});
  } finally {
    await hub.stop();
  }
}

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
    // The last seed gone, so are the shims' sockets it made and kubelet's fixed device-plugin socket. Another
    // test run's seed on this machine keeps (and makes) its own, rightly: then neither says anything of ours.
    const otherSeeds = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(SEED_NETNS_PREFIX));
    if (otherSeeds.length === 0) {
      expect(shimSockets()).toEqual(socketsBefore);
      expect(existsSync('/var/lib/kubelet/device-plugins/kubelet.sock')).toBe(false);
    }
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

  it('binds a PersistentVolumeClaim on its default StorageClass, and the data outlives the Pod that wrote it', async () => {
    expect(seed.storageClass).toBe('local-path');
    expect(seed.kubectl('get', 'storageclass', 'local-path', '-o', 'jsonpath={.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class}')).toBe('true');
    const apply = (name: string, text: string) => {
      writeFileSync(join(seed.dir, name), text);
      seed.kubectl('apply', '-f', join(seed.dir, name));
    };
    const finished = (pod: string) => waitFor(`pod ${pod} Succeeded`, () => {
      const phase = seed.kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.phase}');
      if (phase === 'Failed') throw new Error(`pod ${pod} failed: ${seed.kubectl('logs', pod)}`);
      return phase === 'Succeeded' || undefined;
    }, 120_000, 250);
    apply('claim.yaml', CLAIM);
    apply('writer.yaml', volumePod('writer', 'echo written-by-$(hostname) > /data/f'));
    await finished('writer');
    expect(seed.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.status.phase} {.spec.storageClassName}')).toBe('Bound local-path');
    // the volume is a directory inside the seed's own directory, so stop() removes it with the rest
    const pv = seed.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}');
    const path = seed.kubectl('get', 'pv', pv, '-o', 'jsonpath={.spec.hostPath.path}');
    expect(path.startsWith(`${seed.dir}/`)).toBe(true);
    expect(readFileSync(join(path, 'f'), 'utf8')).toBe('written-by-writer\n');
    seed.kubectl('delete', 'pod', 'writer', '--wait=true');
    apply('reader.yaml', volumePod('reader', 'cat /data/f'));
    await finished('reader');
    expect(seed.kubectl('logs', 'reader')).toBe('written-by-writer\n');
    expect(seed.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}')).toBe(pv);
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

      // DIR/release.yaml: the Releases of the world's images, every one of which is on the node
      expect(up.stdout).toContain(`outpost apply -f ${join(dir, 'release.yaml')}`);
      expect(readFileSync(join(dir, 'release.yaml'), 'utf8')).toBe(worldReleasesYaml());
      const onNode = execFileSync('ctr', ['-a', cliState.containerd?.socket ?? '', '-n', 'k8s.io', 'images', 'ls', '-q'], { encoding: 'utf8' });
      expect(worldReleases().flatMap((r) => Object.values(r.spec?.components ?? {})).filter((ref) => !onNode.split('\n').includes(ref))).toEqual([]);
      expect(missingImages(onNode)).toEqual([]);
      await expectHubAdmits(join(dir, 'release.yaml'));

      // a volume on its default StorageClass: a directory in DIR, which `down` must empty all the same
      writeFileSync(join(dir, 'claim.yaml'), CLAIM + '---' + volumePod('writer', 'echo x > /data/f'));
      kubectl('apply', '-f', join(dir, 'claim.yaml'));
      await waitFor('pod writer Succeeded', () => kubectl('get', 'pod', 'writer', '-o', 'jsonpath={.status.phase}') === 'Succeeded' || undefined, 120_000, 250);
      const volume = kubectl('get', 'pv', '-o', 'jsonpath={.items[0].spec.hostPath.path}');
      expect(readFileSync(join(volume, 'f'), 'utf8')).toBe('x\n');

      const down = world('down', '--dir', dir);
      expect(down.status, down.stderr).toBe(0);
      expectGone(cliState);
      expect(readdirSync(dir)).toEqual([]);
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
