// A Release's spec.components: which image each component of a cluster at that version runs. The names
// are the ones the agents install (DESIGN.md, "Making it real at a seed / at a site"); an unknown name
// is a typo that no agent would ever read, so it is refused rather than kept.
import { parseFamiliarName } from '@swimlane/docker-reference';
import { ARTIFACT_TYPES, describeMissing, digestHex, missingArtifacts, type FieldProblem, type Release } from '@outpost/proto';

/**
 * The control plane a seed runs as pods (etcd, kube-apiserver, kube-controller-manager, kube-scheduler),
 * and the images kubeadm pulls on a site besides (kube-proxy, CoreDNS, the pod sandbox "pause"): an
 * air-gapped site must be told all of them, or its mirror misses one.
 */
export const RELEASE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'coredns', 'pause'] as const;

const KNOWN: ReadonlySet<string> = new Set(RELEASE_COMPONENTS);

/**
 * Why `ref` is not an image reference a node can pull, or undefined when it is. The grammar is
 * distribution's (the one containerd and Docker parse), so what passes here pulls there. A reference
 * must pin a tag or a digest: an implied ":latest" would let one Release install different bytes over time.
 */
export function imageReferenceProblem(ref: string): string | undefined {
  let parsed;
  try {
    parsed = parseFamiliarName(ref);
  } catch (e) {
    return `"${ref}" is not an image reference (${(e as Error).message}); write it as REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST, such as "registry.k8s.io/kube-apiserver:v1.33.0"`;
  }
  if (!parsed.tag && !parsed.digest) return `"${ref}" names no tag or digest; pin one, such as "${ref}:v1.33.0" or "${ref}@sha256:<digest>", so the Release always means the same image`;
  return undefined;
}

export function checkComponents(components: Record<string, string> | null | undefined, out: FieldProblem[]): void {
  for (const [name, ref] of Object.entries(components ?? {})) {
    const field = `spec.components.${name}`;
    if (!KNOWN.has(name)) out.push({ field, message: `"${name}" is not a component Outpost installs; use one of ${RELEASE_COMPONENTS.join(', ')}` });
    else {
      const problem = imageReferenceProblem(ref);
      if (problem) out.push({ field, message: problem });
    }
  }
}

/**
 * A Release's artifact list, when it has one: every entry a known type with a name and a sha256 digest,
 * and every artifact its components and kubeadm need present (requiredArtifacts in proto), so no site's
 * mirror can lack an image the Release names. A Release without artifacts is a catalogue entry (a seed
 * pulls its images from the registry the components name) and is left alone.
 */
export function checkArtifacts(spec: Release['spec'], out: FieldProblem[]): void {
  const artifacts = spec?.artifacts ?? [];
  if (artifacts.length === 0) return;
  artifacts.forEach((a, i) => {
    const field = `spec.artifacts[${i}]`;
    if (!a.name) out.push({ field: `${field}.name`, message: 'name the artifact: the file a host installs, or the image reference' });
    if (!(ARTIFACT_TYPES as readonly string[]).includes(a.type ?? '')) out.push({ field: `${field}.type`, message: `"${a.type ?? ''}" is not an artifact type; use one of ${ARTIFACT_TYPES.join(', ')}` });
    if (!digestHex(a.digest ?? '')) out.push({ field: `${field}.digest`, message: `"${a.digest ?? ''}" is not a digest; write sha256:<64 lowercase hex digits> (outpost release import DIR fills it in)` });
  });
  const missing = missingArtifacts(spec);
  if (missing.length) out.push({ field: 'spec.artifacts', message: `lacks what a cluster of this Release needs: ${describeMissing(missing)}; import the release directory with all of them (outpost release import DIR)` });
}
