// A release directory (the layout `outpost release import DIR` reads: RELEASE_DIRS in proto) from what
// the test world built, of its current or its previous Kubernetes version: kubeadm, kubelet and kubectl,
// the CNI plugins, the image archives of the control plane and its addons (kube-proxy, CoreDNS), and a
// release.yaml whose spec.components name exactly the images in it. Files are
// hardlinked (copied where the directory is on another filesystem), so it takes no time and no disk.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELEASE_COMPONENTS } from '@outpost/hub';
import { REQUIRED_BINARIES, REQUIRED_CNI_PLUGINS, RELEASE_DIRS, RELEASE_MANIFEST } from '@outpost/proto';
import YAML from 'yaml';
import { binary, imagesDir, VERSIONS } from './binaries.js';

/** The tag each component's archive carries at the pinned versions (build-k8s.sh), for Kubernetes `version`; pause carries its own. */
const pinnedTags = (version: string): Record<string, string> => ({
  etcd: VERSIONS.etcd,
  coredns: VERSIONS.coredns,
  'kube-apiserver': version,
  'kube-controller-manager': version,
  'kube-scheduler': version,
  'kube-proxy': version,
});

function place(from: string, to: string): void {
  if (existsSync(to)) return;
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The references a docker-archive holds (its manifest.json RepoTags), read with the system's tar. */
function repoTags(archive: string): string[] {
  const r = spawnSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read manifest.json of ${archive}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Array<{ RepoTags?: string[] }>).flatMap((m) => m.RepoTags ?? []);
}

export interface WrittenReleaseDir {
  dir: string;
  version: string;
  files: number;
  components: Record<string, string>;
}

/**
 * Writes the release directory `dir` (made if missing; files already there are kept) of Kubernetes
 * `kubernetesVersion`: the world's current one by default, or its previous patch ("v1.34.3", with or
 * without the "v"), for upgrades.
 */
export function writeReleaseDir(dir: string, kubernetesVersion: string = VERSIONS.kubernetes): WrittenReleaseDir {
  const kv = `v${kubernetesVersion.replace(/^v/, '')}`;
  const PINNED_TAG = pinnedTags(kv);
  for (const sub of Object.values(RELEASE_DIRS)) mkdirSync(join(dir, sub), { recursive: true });
  let files = 0;
  for (const name of REQUIRED_BINARIES) {
    place(binary(name, kv), join(dir, RELEASE_DIRS.binary, name));
    files++;
  }
  for (const name of REQUIRED_CNI_PLUGINS) {
    place(binary(name), join(dir, RELEASE_DIRS.cni, name));
    files++;
  }
  const components: Record<string, string> = {};
  const images = imagesDir();
  if (!existsSync(images)) throw new Error(`no test images in ${images}: run \`npm run world:build\``);
  for (const f of readdirSync(images).filter((n) => n.endsWith('.tar')).sort()) {
    // Only the cluster's own images at the pinned versions: the world's busybox is a test workload, and
    // archives of other versions (built for an upgrade test) belong to other Releases.
    const ref = repoTags(join(images, f)).find((r) => {
      const m = /^[^/]+\/([^:]+):(.+)$/.exec(r);
      const component = RELEASE_COMPONENTS.find((c) => c === m?.[1]);
      return component && (PINNED_TAG[component] ?? m?.[2]) === m?.[2];
    });
    if (!ref) continue;
    const component = /^[^/]+\/([^:]+):/.exec(ref)![1]!;
    if (components[component]) throw new Error(`two archives in ${images} hold ${component} at the pinned version (${components[component]}, ${ref}); rebuild with \`npm run world:build\``);
    components[component] = ref;
    place(join(images, f), join(dir, RELEASE_DIRS.image, f));
    files++;
  }
  const version = kv.replace(/^v/, '');
  const release = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: version }, spec: { version, components } };
  writeFileSync(join(dir, RELEASE_MANIFEST), YAML.stringify(release));
  return { dir, version, files, components };
}
