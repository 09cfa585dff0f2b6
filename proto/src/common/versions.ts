// Kubernetes versions as Clusters and Releases name them: "1.34.4" and "v1.34.4" are one version.

/** A Kubernetes release version: 1.33.0, v1.33.0, 1.33.0-rc.1. */
export const KUBE_VERSION_RE = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

export function normaliseVersion(v: string | null | undefined): string {
  return (v ?? '').replace(/^v/, '');
}

/** The version a Release stands for: its spec.version, or else its name (Releases are named by version). */
export function releaseVersion(r: { metadata: { name?: string | null }; spec?: { version?: string | null } | null }): string {
  return normaliseVersion(r.spec?.version || r.metadata.name);
}

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `v` as numbers, or undefined when it is not a Kubernetes version. */
export function parseKubeVersion(v: string | null | undefined): KubeVersion | undefined {
  const m = KUBE_VERSION_RE.exec(v ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** What the Release rules allow a cluster at `from` to move to, for messages: "any 1.33 patch, or 1.34". */
export function allowedVersionSteps(from: KubeVersion): string {
  return `any ${from.major}.${from.minor} patch (${from.major}.${from.minor}.x), or the next minor, ${from.major}.${from.minor + 1} (${from.major}.${from.minor + 1}.x)`;
}

/**
 * Why the Release rules refuse moving a cluster from version `from` to `to`, or undefined when they allow
 * it: any patch within the same minor, or the next minor. kubeadm and the control-plane components
 * upgrade one minor at a time and never downgrade a minor (etcd's and the API's stored data would not
 * read back), so a skip, a minor downgrade or a major change is refused. Versions that do not parse are
 * the format check's to report, not this one's.
 */
export function versionStepProblem(from: string | null | undefined, to: string | null | undefined): string | undefined {
  const a = parseKubeVersion(from);
  const b = parseKubeVersion(to);
  if (!a || !b) return undefined;
  if (a.major === b.major && (b.minor === a.minor || b.minor === a.minor + 1)) return undefined;
  const was = normaliseVersion(from);
  const now = normaliseVersion(to);
  const allowed = `from ${was} a cluster may move to ${allowedVersionSteps(a)}`;
  if (a.major !== b.major) return `cannot change the major version from ${was} to ${now}; ${allowed}. Create a new Cluster for ${b.major}.x`;
  if (b.minor < a.minor) return `cannot downgrade from ${was} to ${now}: a minor version never goes back; ${allowed}. Create a new Cluster for ${b.major}.${b.minor}`;
  return `cannot skip from ${was} to ${now}; ${allowed}. Upgrade one minor at a time: first to ${a.major}.${a.minor + 1}`;
}
