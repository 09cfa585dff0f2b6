// A real Kubernetes seed cluster on this machine: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler as processes in the root namespace, and one node (containerd + kubelet + bridge CNI +
// kube-proxy) in a network namespace of its own, so Pods really run and Services really route.
//
// Each seed claims a slot (seed-config.ts): its own directory, ports, node namespace, pod and service
// ranges and cgroup, so two run side by side. Everything it makes is recorded in
// `<dir>/world-state.json` as it is made, and stop() (or `npm run world -- down`) removes all of it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../lib/ports.js';
import { binary, binDirs, imagesDir, VERSIONS } from './binaries.js';
import { makeCgroup } from './cgroups.js';
import { Daemons } from './daemons.js';
import { LOCAL_PATH_NAMESPACE, LOCAL_PATH_STORAGE_CLASS, localPathManifest } from './local-path.js';
import { kubeconfig, makeCa, makeKeyPair, makeLeaf } from './pki.js';
import { apiServerSans, cniConflist, containerdConfig, freeSlot, kubeletConfig, kubeProxyConfig, seedLayout, type SeedLayout, type SeedPorts } from './seed-config.js';
import { sh } from './shell.js';
import { saveState, stateFile, sweepOrphans, teardown, type WorldState } from './world-state.js';

export interface SeedCluster {
  dir: string;
  layout: SeedLayout;
  kubeconfigPath: string;
  /** The admin kubeconfig's text (system:masters), for @kubernetes/client-node's loadFromString. */
  kubeconfig: string;
  apiServerUrl: string;
  nodeName: string;
  /** The default StorageClass (local-path-provisioner; its volumes are directories under `dir`). */
  storageClass: string;
  /** The node's containerd socket (for `ctr -a`). */
  containerdSocket: string;
  /** Runs a command inside the node's network namespace (Service and pod IPs route there). */
  nodeExec(cmd: string, args?: readonly string[]): string;
  kubectl(...args: string[]): string;
  /** Removes every process, mount, cgroup, namespace, link and file the seed made. Safe to call twice. */
  stop(): Promise<void>;
}

export interface SeedClusterOptions {
  /** Where to put it: a new or empty directory, emptied by stop(); default a new temp directory, removed by stop(). */
  dir?: string;
  /** Image archives to import into the node's containerd; default every archive `npm run world:build` made. */
  images?: string[];
  /** Progress lines ("etcd", "node Ready", ...). */
  log?: (line: string) => void;
  /**
   * Whether the seed may outlive this process (`npm run world -- up`). Otherwise it is this process's,
   * and a later fixture sweeps it away if this process dies without stopping it.
   */
  detached?: boolean;
}

export async function startSeedCluster(opts: SeedClusterOptions = {}): Promise<SeedCluster> {
  const log = opts.log ?? (() => undefined);
  for (const swept of await sweepOrphans(tmpdir(), 'outpost-seed-')) log(`removed the seed in ${swept}: the test run that made it died without stopping it`);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'outpost-seed-'));
  mkdirSync(dir, { recursive: true });
  if (existsSync(stateFile(dir))) throw new Error(`${dir} already holds a test world: run \`npm run world -- down --dir ${dir}\` first`);
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: give a new or empty directory (the world's files go there, and \`down\` empties it)`);
  const layout = seedLayout(freeSlot(sh('ip', ['netns', 'list'])), dir);
  const state: WorldState = { dir, ownsDir: opts.dir === undefined, processes: [], netns: [], links: [], cgroups: [], info: { kind: 'seed', slot: String(layout.slot) }, ...(opts.detached ? {} : { ownerPid: process.pid }) };
  saveState(state);
  const daemons = new Daemons(state, join(dir, 'logs'));
  const stop = async (): Promise<void> => {
    const left = await teardown(state);
    if (left.length) throw new Error(`seed ${layout.slot} left behind: ${left.join(', ')}`);
  };

  try {
    const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler, kubelet] = await freePorts(6);
    const ports: SeedPorts = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiServer: apiServer!, controllerManager: controllerManager!, scheduler: scheduler!, kubelet: kubelet! };
    const apiUrl = `https://${layout.gateway}:${ports.apiServer}`;

    log('certificates');
    const pki = join(dir, 'pki');
    mkdirSync(pki, { recursive: true });
    const ca = makeCa(pki, `outpost-seed-${layout.slot}-ca`);
    const leaf = (name: string, cn: string, usage: 'server' | 'client' | 'both', extra: { org?: string; sans?: string[] } = {}) => makeLeaf(pki, ca, { name, cn, usage, ...extra });
    const certs = {
      apiserver: leaf('apiserver', 'kube-apiserver', 'server', { sans: apiServerSans(layout) }),
      apiKubeletClient: leaf('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', 'client', { org: 'system:masters' }),
      admin: leaf('admin', 'outpost-test-admin', 'client', { org: 'system:masters' }),
      controllerManager: leaf('kcm', 'system:kube-controller-manager', 'client'),
      scheduler: leaf('scheduler', 'system:kube-scheduler', 'client'),
      kubelet: leaf('kubelet', `system:node:${layout.nodeName}`, 'both', { org: 'system:nodes', sans: [layout.nodeIp, layout.nodeName] }),
      proxy: leaf('kube-proxy', 'system:kube-proxy', 'client'),
    };
    const sa = makeKeyPair(pki, 'sa');
    const writeKubeconfig = (name: string, client: { cert: string; key: string }, user: string): string => {
      const path = join(dir, name ? `${name}.kubeconfig` : 'kubeconfig');
      writeFileSync(path, kubeconfig(apiUrl, ca.cert, client, user), { mode: 0o600 });
      return path;
    };

    log('node network namespace');
    state.netns.push(layout.netns);
    state.links.push(layout.hostVeth);
    saveState(state);
    sh('ip', ['netns', 'add', layout.netns]);
    sh('ip', ['link', 'add', layout.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', layout.netns]);
    sh('ip', ['addr', 'add', `${layout.gateway}/24`, 'dev', layout.hostVeth]);
    sh('ip', ['link', 'set', layout.hostVeth, 'up']);
    const nodeExec = (cmd: string, args: readonly string[] = []) => sh('ip', ['netns', 'exec', layout.netns, cmd, ...args]);
    nodeExec('ip', ['addr', 'add', `${layout.nodeIp}/24`, 'dev', 'eth0']);
    nodeExec('ip', ['link', 'set', 'eth0', 'up']);
    nodeExec('ip', ['link', 'set', 'lo', 'up']);
    nodeExec('ip', ['route', 'add', 'default', 'via', layout.gateway]);
    nodeExec('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.bridge.bridge-nf-call-iptables=1']);
    // Pods reach the test hosts (10.213.0.0/16) through the root namespace.
    sh('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

    log('etcd, kube-apiserver');
    daemons.start({
      name: 'etcd',
      cmd: binary('etcd'),
      args: [
        '--name', 'seed', '--data-dir', join(dir, 'etcd'),
        '--listen-client-urls', `http://127.0.0.1:${ports.etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${ports.etcdClient}`,
        '--listen-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
        '--initial-cluster', `seed=http://127.0.0.1:${ports.etcdPeer}`, '--log-level', 'warn',
        // A throwaway test store: fsync buys nothing and costs seconds on a shared disk.
        '--unsafe-no-fsync',
      ],
    });
    daemons.start({
      name: 'kube-apiserver',
      cmd: binary('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
        `--bind-address=${layout.gateway}`, `--advertise-address=${layout.gateway}`, `--secure-port=${ports.apiServer}`,
        `--service-cluster-ip-range=${layout.serviceCidr}`,
        `--tls-cert-file=${certs.apiserver.cert}`, `--tls-private-key-file=${certs.apiserver.key}`, `--client-ca-file=${ca.cert}`,
        `--kubelet-client-certificate=${certs.apiKubeletClient.cert}`, `--kubelet-client-key=${certs.apiKubeletClient.key}`,
        `--kubelet-certificate-authority=${ca.cert}`, '--kubelet-preferred-address-types=InternalIP',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${sa.pub}`, `--service-account-signing-key-file=${sa.key}`,
        '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
        '--profiling=false', '--v=1',
      ],
    });

    // containerd comes up and takes the images while the API server starts.
    log('containerd, images');
    makeCgroup(layout.cgroupRoot);
    state.cgroups.push(layout.cgroupRoot);
    saveState(state);
    const ctrDir = join(dir, 'containerd');
    const cniConfDir = join(dir, 'cni', 'net.d');
    mkdirSync(cniConfDir, { recursive: true });
    const socket = join(ctrDir, 'containerd.sock');
    writeFileSync(join(dir, 'containerd.toml'), containerdConfig({ root: join(ctrDir, 'root'), state: join(ctrDir, 'state'), socket, cniBinDir: binDirs().cni, cniConfDir, sandboxImage: 'outpost.local/pause:test', runcRoot: join(ctrDir, 'runc') }));
    writeFileSync(join(cniConfDir, '10-seed.conflist'), cniConflist(layout, join(dir, 'cni', 'ipam')));
    state.containerd = { socket, namespace: 'k8s.io', stateDir: join(ctrDir, 'state') };
    daemons.start({ name: 'containerd', cmd: 'containerd', args: ['--config', join(dir, 'containerd.toml')], netns: layout.netns });
    await daemons.waitUntil('containerd', () => existsSync(socket) && sh('ctr', ['-a', socket, 'version']).includes('Server:'), 30_000);
    const imports = importImages(socket, opts.images ?? defaultImages());

    // The admin's is DIR/kubeconfig: what `npm run world -- up --dir DIR` promises.
    const kubeconfigPath = writeKubeconfig('', certs.admin, 'admin');
    const kubectl = (...a: string[]): string => sh(binary('kubectl'), ['--kubeconfig', kubeconfigPath, ...a]);
    await daemons.waitUntil('kube-apiserver /readyz', () => kubectl('get', '--raw', '/readyz').trim() === 'ok', 90_000);
    // The default StorageClass's provisioner, applied now so its pod starts as soon as the node is Ready.
    const storageManifest = join(dir, 'local-path.yaml');
    writeFileSync(storageManifest, localPathManifest({ seedDir: dir, provisionerImage: `outpost.local/local-path-provisioner:${VERSIONS.localPathProvisioner}`, helperImage: 'outpost.local/busybox:test' }));
    kubectl('apply', '-f', storageManifest);

    await imports.forNode;
    log('controller-manager, scheduler, kubelet, kube-proxy');
    daemons.start({
      name: 'kube-controller-manager',
      cmd: binary('kube-controller-manager'),
      args: [
        `--kubeconfig=${writeKubeconfig('kcm', certs.controllerManager, 'system:kube-controller-manager')}`,
        '--bind-address=127.0.0.1', `--secure-port=${ports.controllerManager}`,
        `--service-account-private-key-file=${sa.key}`, `--root-ca-file=${ca.cert}`,
        `--cluster-signing-cert-file=${ca.cert}`, `--cluster-signing-key-file=${ca.key}`,
        '--use-service-account-credentials=true', '--leader-elect=false', `--service-cluster-ip-range=${layout.serviceCidr}`, '--v=1',
      ],
    });
    daemons.start({
      name: 'kube-scheduler',
      cmd: binary('kube-scheduler'),
      args: [`--kubeconfig=${writeKubeconfig('scheduler', certs.scheduler, 'system:kube-scheduler')}`, '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`, '--leader-elect=false', '--v=1'],
    });
    writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig(layout, ports.kubelet, { containerdSocket: socket, podLogsDir: join(dir, 'pod-logs'), certFile: certs.kubelet.cert, keyFile: certs.kubelet.key, clientCaFile: ca.cert }));
    daemons.start({
      name: 'kubelet',
      cmd: binary('kubelet'),
      args: [
        `--config=${join(dir, 'kubelet.yaml')}`, `--kubeconfig=${writeKubeconfig('kubelet', certs.kubelet, `system:node:${layout.nodeName}`)}`,
        `--root-dir=${join(dir, 'kubelet')}`, `--hostname-override=${layout.nodeName}`, `--node-ip=${layout.nodeIp}`, '--v=1',
      ],
      netns: layout.netns,
    });
    writeFileSync(join(dir, 'kube-proxy.yaml'), kubeProxyConfig(layout, writeKubeconfig('kube-proxy', certs.proxy, 'system:kube-proxy')));
    daemons.start({ name: 'kube-proxy', cmd: binary('kube-proxy'), args: [`--config=${join(dir, 'kube-proxy.yaml')}`, '--v=1'], netns: layout.netns });

    await daemons.waitUntil(`node ${layout.nodeName} Ready`, () => kubectl('get', 'node', layout.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') === 'True', 120_000);
    // Pods cannot be created in a namespace before its default ServiceAccount exists.
    await daemons.waitUntil('the default ServiceAccount', () => kubectl('get', 'serviceaccount', 'default', '-o', 'name').trim() === 'serviceaccount/default', 60_000);
    // A PersistentVolumeClaim binds only once its provisioner runs: a seed is ready when storage is, and
    // when the hosted control planes' images are in (they import meanwhile).
    log('default StorageClass, control-plane images');
    await Promise.all([
      daemons.waitUntil(
        'the local-path provisioner',
        () => kubectl('get', 'deployment', 'local-path-provisioner', '-n', LOCAL_PATH_NAMESPACE, '-o', 'jsonpath={.status.availableReplicas}') === '1',
        120_000,
      ),
      imports.all,
    ]);
    state.info = { ...state.info, apiServerUrl: apiUrl, kubeconfig: join(dir, 'kubeconfig'), node: layout.nodeName, nodeNetns: layout.netns };
    saveState(state);
    log('ready');
    return {
      dir,
      layout,
      kubeconfigPath,
      kubeconfig: readFileSync(kubeconfigPath, 'utf8'),
      apiServerUrl: apiUrl,
      nodeName: layout.nodeName,
      storageClass: LOCAL_PATH_STORAGE_CLASS,
      containerdSocket: socket,
      nodeExec,
      kubectl,
      stop,
    };
  } catch (err) {
    // OUTPOST_KEEP_WORLD=1 leaves a failed seed running for inspection; `npm run world -- down --dir` removes it.
    if (process.env.OUTPOST_KEEP_WORLD === '1') throw err;
    const logs = daemons.tails();
    await teardown(state);
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
}

const execFileAsync = promisify(execFile);

/** The archives of images the seed's own pods run (pod sandbox, test pods, storage); the rest are for hosted control planes. */
const NODE_IMAGE_ARCHIVE = /^(pause|busybox|local-path-provisioner)-/;

/**
 * Imports image archives into the node's containerd in the background: first those the node's own pods
 * need (`forNode`, before kubelet starts, so no pod meets a missing image), then the rest (`all`), while
 * the control plane and node start. Importing is CPU-bound, and the control-plane images of two versions
 * took longer than the API server's start did: this keeps them off the seed's critical path.
 */
function importImages(socket: string, archives: readonly string[]): { forNode: Promise<void>; all: Promise<void> } {
  // side by side: one import keeps less than one core busy
  const together = async (files: readonly string[]): Promise<void> => {
    await Promise.all(files.map((f) => execFileAsync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', f])));
  };
  const forNode = together(archives.filter((f) => NODE_IMAGE_ARCHIVE.test(basename(f))));
  const all = forNode.then(() => together(archives.filter((f) => !NODE_IMAGE_ARCHIVE.test(basename(f)))));
  // awaited by startSeedCluster; this only keeps a failure there that comes first from leaving it unhandled
  all.catch(() => undefined);
  return { forNode, all };
}

/** Every image archive `npm run world:build` made for the pinned versions. */
function defaultImages(): string[] {
  const dir = imagesDir();
  if (!existsSync(dir)) throw new Error(`no test images in ${dir}: run \`npm run world:build\``);
  return readdirSync(dir).filter((f) => f.endsWith('.tar')).map((f) => join(dir, f));
}
