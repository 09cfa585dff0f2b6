// The seed namespace that holds one hosted control plane: `cluster-<project>-<name>`, as DESIGN.md names it.
// A namespace name is a DNS-1123 label (63 characters at most); a longer one is cut and given a hash of the
// whole name, so it stays unique and the same on every run and every agent. Pure.
import { createHash } from 'node:crypto';

/** kube-apiserver's rule for a namespace name (k8s.io/apimachinery IsDNS1123Label). */
export const DNS1123_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;

/** Hex digits of the hash a shortened name ends with: 40 bits, far from colliding among one seed's clusters. */
const HASH_DIGITS = 10;

/** The labels that say which Cluster a seed namespace belongs to; the reconciler checks them before it adopts one. */
export const PROJECT_LABEL = 'outpost.dev/project';
export const CLUSTER_LABEL = 'outpost.dev/cluster';

export function controlPlaneLabels(project: string, name: string): Record<string, string> {
  return { [PROJECT_LABEL]: project, [CLUSTER_LABEL]: name };
}

/**
 * `cluster-<project>-<name>` when that is a valid label; otherwise its first characters (anything but
 * [a-z0-9-] made a dash) and `-<hash>` of the full name. Project and cluster names are themselves DNS
 * labels, so the short form is the rule; the hash keeps two long names that share a prefix apart.
 */
export function controlPlaneNamespace(project: string, name: string): string {
  const full = `cluster-${project}-${name}`;
  if (full.length <= DNS1123_LABEL_MAX && DNS1123_LABEL_RE.test(full)) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_DIGITS);
  const head = full
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, DNS1123_LABEL_MAX - HASH_DIGITS - 1)
    .replace(/-+$/, '');
  return `${head}-${hash}`;
}
