// The artifacts the agent's current Clusters need: every digest the Release of each Cluster's version
// lists (one being deleted too: its teardown may need kubeadm). What the cache keeps longest. Pure.
import { normaliseVersion, releaseVersion, type Cluster, type Release } from '@outpost/proto';

export function digestsInUse(clusters: readonly Cluster[], releases: readonly Release[]): Set<string> {
  const versions = new Set(clusters.map((c) => normaliseVersion(c.spec?.version)));
  const out = new Set<string>();
  for (const r of releases) {
    if (!versions.has(releaseVersion(r))) continue;
    for (const a of r.spec?.artifacts ?? []) if (a.digest) out.add(a.digest);
  }
  return out;
}
