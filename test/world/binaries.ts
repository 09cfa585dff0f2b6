// Where the test world's binaries are: the cache test/world/build-k8s.sh fills, keyed by the versions
// pinned in test/tools/*/go.mod.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS = fileURLToPath(new URL('../tools/', import.meta.url));

function pinned(moduleDir: string, modulePath: string): string {
  for (const line of readFileSync(join(TOOLS, moduleDir, 'go.mod'), 'utf8').split('\n')) {
    const t = line.trim();
    if (t.startsWith('//')) continue;
    const words = t.replace(/^require\s+/, '').split(/\s+/);
    if (words[0] === modulePath && words[1]) return words[1];
  }
  throw new Error(`test/tools/${moduleDir}/go.mod pins no ${modulePath}`);
}

export const VERSIONS = {
  kubernetes: pinned('kubernetes', 'k8s.io/kubernetes'),
  /** The previous patch version (its control plane, kubeadm, kubelet, kubectl, kube-proxy), for upgrades. */
  kubernetesPrevious: pinned('kubernetes-previous', 'k8s.io/kubernetes'),
  etcd: pinned('etcd', 'go.etcd.io/etcd/server/v3'),
  cni: pinned('cni', 'github.com/containernetworking/plugins'),
  localPathProvisioner: pinned('local-path-provisioner', 'github.com/rancher/local-path-provisioner'),
  /** The CoreDNS kubeadm's DNS addon runs on site clusters (the version `kubeadm config images list` names). */
  coredns: pinned('coredns', 'github.com/coredns/coredns'),
};

const cacheRoot = (): string => process.env.OUTPOST_WORLD_CACHE || join(homedir(), '.cache', 'outpost-world');

export const binDirs = () => ({
  kubernetes: join(cacheRoot(), `k8s-${VERSIONS.kubernetes}`, 'bin'),
  kubernetesPrevious: join(cacheRoot(), `k8s-${VERSIONS.kubernetesPrevious}`, 'bin'),
  etcd: join(cacheRoot(), `etcd-${VERSIONS.etcd}`, 'bin'),
  cni: join(cacheRoot(), `cni-${VERSIONS.cni}`, 'bin'),
  localPathProvisioner: join(cacheRoot(), `local-path-provisioner-${VERSIONS.localPathProvisioner}`, 'bin'),
});

/** Where `npm run world:build` puts the image archives (pause, busybox, etcd, kube-* of both Kubernetes versions, local-path-provisioner, coredns) for the pinned versions. */
export const imagesDir = (): string => join(cacheRoot(), `images-${VERSIONS.kubernetes}-${VERSIONS.etcd}`);

/**
 * The path of one built binary; a Kubernetes one of `kubernetesVersion` (VERSIONS.kubernetes or
 * VERSIONS.kubernetesPrevious; default the current). Throws, saying how to build it, when it is missing.
 */
export function binary(name: string, kubernetesVersion: string = VERSIONS.kubernetes): string {
  const dirs = binDirs();
  const k8s = kubernetesVersion === VERSIONS.kubernetesPrevious ? dirs.kubernetesPrevious : dirs.kubernetes;
  if (kubernetesVersion !== VERSIONS.kubernetes && kubernetesVersion !== VERSIONS.kubernetesPrevious) throw new Error(`the world builds Kubernetes ${VERSIONS.kubernetes} and ${VERSIONS.kubernetesPrevious}, not ${kubernetesVersion}`);
  const dir = name === 'etcd' ? dirs.etcd : ['bridge', 'host-local', 'loopback', 'portmap'].includes(name) ? dirs.cni : k8s;
  const path = join(dir, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run world:build\` (or bash test/world/setup.sh)`);
  return path;
}
