// Which images kubeadm will run, and how to make it name exactly the Release's. kubeadm does not take a
// list of images: it builds each name from its ClusterConfiguration by fixed rules (kubeadm's
// app/images/images.go), and the node runs what those names hold. So the Release's references are
// turned into the few knobs kubeadm has, and a reference those knobs cannot spell is refused here,
// before a host is touched, instead of as an ImagePull error halfway through `kubeadm init`. Pure.
//
// kubeadm's rules (v1beta4):
//   kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy:
//       <imageRepository>/<component>:<kubernetesVersion>   (one repository for all four, no override)
//   etcd:    <etcd.local.imageRepository or imageRepository>/etcd:<etcd.local.imageTag>
//   coredns: <dns.imageRepository or imageRepository>/coredns:<dns.imageTag>   (unless dns.disabled)
//   pause:   <imageRepository>/pause:<the pause version compiled into kubeadm>   (no override at all)
// kube-proxy is left out when proxy.disabled, coredns when dns.disabled.
import { normaliseVersion, parseKubeVersion } from '@outpost/proto';
import { SiteReleaseError } from './errors.js';

/** The components kubeadm builds from imageRepository and the Kubernetes version. */
const VERSIONED = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'] as const;

/**
 * The pause tag each kubeadm minor asks for (kubeadm's constants.PauseVersion). kubeadm only checks that
 * this image is on the node (preflight); the pod sandbox containerd really runs is the one its config pins
 * (the Release's pause), so the Release's pause is tagged with this name too (KubeadmImagePlan.aliases).
 */
export const KUBEADM_PAUSE_TAGS: Readonly<Record<string, string>> = {
  '1.31': '3.10',
  '1.32': '3.10',
  '1.33': '3.10',
  '1.34': '3.10.1',
  '1.35': '3.10.1',
};

/**
 * The pause tag in `kubeadm config images list` output (one reference a line), or undefined when it lists
 * none: what to pass as kubeadmPauseTag where the table lags behind a kubeadm (a patch release may move it).
 */
export function listedPauseTag(imagesListOutput: string): string | undefined {
  for (const line of imagesListOutput.split('\n')) {
    const m = /\/pause:([^\s/]+)$/.exec(line.trim());
    if (m) return m[1];
  }
  return undefined;
}

export interface KubeadmImageInputs {
  /** The Release's name, for messages. */
  release: string;
  /** The cluster's Kubernetes version, "1.34.4" (a leading "v" is accepted). */
  kubernetesVersion: string;
  /** The Release's spec.components: component -> image reference. */
  components: Readonly<Record<string, string>>;
  /** Whether kubeadm installs CoreDNS (its addon); when false the cluster has no DNS unless an addon brings one. */
  dns: boolean;
  /** Whether kubeadm installs kube-proxy; when false Services work only if the CNI replaces it. */
  proxy: boolean;
  /** The pause tag the kubeadm binary asks for, where KUBEADM_PAUSE_TAGS does not know its minor. */
  kubeadmPauseTag?: string;
}

/** A repository and tag kubeadm is told for one image. */
export interface ImageOverride {
  imageRepository: string;
  imageTag: string;
}

/** The Release's image tagged again under the name kubeadm asks for, because kubeadm cannot be told the Release's. */
export interface ImageAlias {
  component: string;
  /** The Release's reference (imported from its archive). */
  source: string;
  /** The name kubeadm looks for. */
  target: string;
}

export interface KubeadmImagePlan {
  /** "v1.34.4": kubeadm's kubernetesVersion, and the tag of every image built from it. */
  kubernetesVersion: string;
  /** ClusterConfiguration.imageRepository. */
  imageRepository: string;
  /** ClusterConfiguration.etcd.local's image. */
  etcd: ImageOverride;
  /** ClusterConfiguration.dns's image; undefined when dns is disabled. */
  dns: ImageOverride | undefined;
  /** Whether kubeadm installs kube-proxy (false: ClusterConfiguration.proxy.disabled). */
  proxy: boolean;
  /** What `kubeadm config images list` prints for this plan, in its order. */
  images: string[];
  /** The pod sandbox image containerd pins: the Release's pause. */
  sandboxImage: string;
  /** Images to tag on each host before kubeadm runs (the Release's pause under kubeadm's pause name, where they differ). */
  aliases: ImageAlias[];
}

interface SplitRef {
  repository: string;
  name: string;
  tag: string;
}

/**
 * A reference as kubeadm joins one: "<repository>/<name>:<tag>". kubeadm concatenates strings and never
 * normalises ("pause:3.10" is not "docker.io/library/pause:3.10" to it), so this splits strings too.
 */
function splitRef(ref: string): SplitRef | string {
  if (ref.includes('@')) return 'is pinned by digest, and kubeadm names images by tag only; pin it by tag';
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) return 'names no tag; pin one';
  if (slash <= 0) return 'names no repository, and kubeadm always puts one before the image name';
  return { repository: ref.slice(0, slash), name: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

/** "v1.34.4" as kubeadm tags images of it ("+" is not allowed in a tag, so kubeadm writes "_"). */
function versionTag(version: string): string {
  return `v${normaliseVersion(version)}`.replaceAll('+', '_');
}

/**
 * How kubeadm must be configured so every image it runs is the Release's, or SiteReleaseError naming
 * each component that is missing or that kubeadm cannot name, and what to put in the Release instead.
 */
export function kubeadmImagePlan(input: KubeadmImageInputs): KubeadmImagePlan {
  const version = parseKubeVersion(normaliseVersion(input.kubernetesVersion));
  if (!version) throw new SiteReleaseError(input.release, [], `Release ${input.release}: "${input.kubernetesVersion}" is not a Kubernetes version; set spec.version to one such as 1.34.4`);
  const tag = versionTag(input.kubernetesVersion);
  const components = input.components;
  const problems: Array<{ component: string; text: string }> = [];
  const fail = (component: string, text: string) => problems.push({ component, text });

  const apiserver = components['kube-apiserver'];
  const apiSplit = apiserver === undefined ? undefined : splitRef(apiserver);
  // The other versioned images must sit in kube-apiserver's repository; say where, when it is known.
  const repository = apiSplit && typeof apiSplit !== 'string' ? apiSplit.repository : undefined;
  const example = (name: string, t: string) => `${repository ?? 'registry.k8s.io'}/${name}:${t}`;
  const versioned = VERSIONED.filter((c) => c !== 'kube-proxy' || input.proxy);
  for (const component of versioned) {
    const ref = components[component];
    const want = example(component, tag);
    if (ref === undefined) {
      fail(component, `names no image for ${component}, which kubeadm runs: add spec.components.${component}: "${want}" and its image archive${component === 'kube-proxy' ? ' (or leave kube-proxy out of the cluster)' : ''}`);
      continue;
    }
    const s = splitRef(ref);
    if (typeof s === 'string') fail(component, `spec.components.${component} "${ref}" ${s}, as "${want}"`);
    else if (s.name !== component || s.tag !== tag || (repository !== undefined && s.repository !== repository))
      fail(component, `spec.components.${component} is "${ref}", but kubeadm can only run <imageRepository>/${component}:<Kubernetes version>, in the same repository as kube-apiserver: make it "${want}" (retag the image so)`);
  }

  const own = (component: 'etcd' | 'coredns', needed: string): ImageOverride | undefined => {
    const ref = components[component];
    if (ref === undefined) {
      fail(component, `names no image for ${component}, which kubeadm runs as ${needed}: add spec.components.${component} (such as "${example(component, component === 'etcd' ? '3.6.5-0' : 'v1.12.1')}") and its image archive${component === 'coredns' ? ', or leave DNS out of the cluster' : ''}`);
      return undefined;
    }
    const s = splitRef(ref);
    if (typeof s === 'string') fail(component, `spec.components.${component} "${ref}" ${s}`);
    else if (s.name !== component) fail(component, `spec.components.${component} is "${ref}", but kubeadm can only run an image whose name is "${component}" (<repository>/${component}:<tag>): retag it so, such as "${s.repository}/${component}:${s.tag}"`);
    else return { imageRepository: s.repository, imageTag: s.tag };
    return undefined;
  };
  const etcd = own('etcd', 'the local etcd');
  const dns = input.dns ? own('coredns', 'the cluster DNS') : undefined;

  const sandboxImage = components.pause;
  if (sandboxImage === undefined) fail('pause', `names no image for pause, the pod sandbox every node runs: add spec.components.pause (such as "${example('pause', '3.10.1')}") and its image archive`);
  const minor = `${version.major}.${version.minor}`;
  const pauseTag = input.kubeadmPauseTag ?? KUBEADM_PAUSE_TAGS[minor];
  if (pauseTag === undefined) fail('pause', `Outpost does not know which pause tag kubeadm ${minor} asks for; run \`kubeadm config images list\` of that version and pass its pause tag (kubeadmPauseTag)`);

  if (problems.length || !etcd || repository === undefined || sandboxImage === undefined || pauseTag === undefined || (input.dns && !dns)) {
    throw new SiteReleaseError(input.release, [...new Set(problems.map((p) => p.component))], `Release ${input.release} cannot make a kubeadm cluster at ${tag}: ${problems.map((p) => p.text).join('; ')}`);
  }
  const pauseName = `${repository}/pause:${pauseTag}`;
  const images = [
    ...versioned.map((c) => `${repository}/${c}:${tag}`),
    ...(dns ? [`${dns.imageRepository}/coredns:${dns.imageTag}`] : []),
    pauseName,
    `${etcd.imageRepository}/etcd:${etcd.imageTag}`,
  ];
  return {
    kubernetesVersion: tag,
    imageRepository: repository,
    etcd,
    dns,
    proxy: input.proxy,
    images,
    sandboxImage,
    aliases: pauseName === sandboxImage ? [] : [{ component: 'pause', source: sandboxImage, target: pauseName }],
  };
}
