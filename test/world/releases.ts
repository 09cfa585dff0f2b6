// The Releases of the images the test world builds (build-k8s.sh) and imports into every seed node:
// one per control-plane version, so a hosted cluster can be made at the previous patch version and
// upgraded to the current one. `npm run world -- up --dir D` writes them to D/release.yaml; e2e tests
// and benches apply worldReleases() itself, so both say the same thing.
import type { Release } from '@outpost/proto';
import { stringify } from 'yaml';
import { VERSIONS } from './binaries.js';

/** Images for pods that every version shares: the pod sandbox. */
export const PAUSE_IMAGE = 'outpost.local/pause:test';

/**
 * What the world built for one Kubernetes version ("v1.34.4"), the current or the previous patch (both
 * with kube-proxy, so kubeadm site clusters upgrade between them): a Release names only images a node
 * really has. CoreDNS is one image for both (kubeadm 1.34 asks for the same tag at every patch version);
 * only kubeadm's addon on site clusters runs it, hosted control planes never.
 */
export function worldComponents(kubernetesVersion: string): Record<string, string> {
  const components: Record<string, string> = {
    etcd: `outpost.local/etcd:${VERSIONS.etcd}`,
    'kube-apiserver': `outpost.local/kube-apiserver:${kubernetesVersion}`,
    'kube-controller-manager': `outpost.local/kube-controller-manager:${kubernetesVersion}`,
    'kube-scheduler': `outpost.local/kube-scheduler:${kubernetesVersion}`,
    pause: PAUSE_IMAGE,
    coredns: `outpost.local/coredns:${VERSIONS.coredns}`,
    'kube-proxy': `outpost.local/kube-proxy:${kubernetesVersion}`,
  };
  return components;
}

/** The world's Releases, newest first, each named by its version ("1.34.4") as the hub's convention is. */
export function worldReleases(): Release[] {
  return [VERSIONS.kubernetes, VERSIONS.kubernetesPrevious].map((v) => {
    const version = v.replace(/^v/, '');
    return { apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: version }, spec: { version, components: worldComponents(v) } };
  });
}

/** worldReleases() as a multi-document YAML, for `outpost apply -f`. */
export function worldReleasesYaml(): string {
  return worldReleases()
    .map((r) => stringify(r))
    .join('---\n');
}

/** The images worldReleases() names that `ctr images ls -q` output (one reference a line) lacks. */
export function missingImages(ctrImagesLsQuiet: string): string[] {
  const have = new Set(ctrImagesLsQuiet.split('\n').map((l) => l.trim()));
  const named = new Set(worldReleases().flatMap((r) => Object.values(r.spec?.components ?? {})));
  return [...named].filter((ref) => !have.has(ref));
}
