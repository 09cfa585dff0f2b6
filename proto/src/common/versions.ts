// Kubernetes versions as Clusters and Releases name them: "1.34.4" and "v1.34.4" are one version.

export function normaliseVersion(v: string | null | undefined): string {
  return (v ?? '').replace(/^v/, '');
}

/** The version a Release stands for: its spec.version, or else its name (Releases are named by version). */
export function releaseVersion(r: { metadata: { name?: string | null }; spec?: { version?: string | null } | null }): string {
  return normaliseVersion(r.spec?.version || r.metadata.name);
}
