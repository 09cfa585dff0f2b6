// A Release's spec.components: which image each component of a cluster at that version runs. The names
// are the ones the agents install (DESIGN.md, "Making it real at a seed / at a site"); an unknown name
// is a typo that no agent would ever read, so it is refused rather than kept.
import { parseFamiliarName } from '@swimlane/docker-reference';
import type { FieldProblem } from '@outpost/proto';

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
