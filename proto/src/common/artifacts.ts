// Artifacts: the files a cluster of a Release's version needs, named by content. Hub (import, admission,
// serving), agent (cache) and bundles share these rules, so a Release means the same bytes everywhere.

/** "sha256:<64 lowercase hex>", the only digest form Outpost writes or accepts. */
export const ARTIFACT_DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** Where the hub serves (GET, HEAD) and takes (PUT, admins only) a blob: `${BLOB_PATH}/sha256:<hex>`. */
export const BLOB_PATH = '/artifacts/v1/blobs';
/**
 * `POST` (admins only; `?dryRun=true` removes nothing): the hub's blob garbage collection now. Answers a
 * BlobGcReport: what was (or would be) removed, the bytes freed, and what was kept and why.
 */
export const BLOB_GC_PATH = '/artifacts/v1/gc';

/** The answer of BLOB_GC_PATH. */
export interface BlobGcReport {
  dryRun: boolean;
  /** Removed (or, in a dry run, would be): digest, size, and its file's mtime (RFC 3339). */
  removed: Array<{ digest: string; size: number; modified: string }>;
  freedBytes: number;
  /** Kept: listed by a Release. */
  referenced: number;
  /** Kept: listed by none, but younger than the grace period. */
  fresh: number;
  /** Kept: listed by none and old, but being read (served, or written into a bundle). */
  held: number;
  graceSeconds: number;
}

/** The hex of a digest, or undefined when it is not of the form sha256:<64 hex>. */
export function digestHex(digest: string): string | undefined {
  return ARTIFACT_DIGEST_RE.exec(digest)?.[1];
}

export type ArtifactType = 'binary' | 'cni' | 'image';
export const ARTIFACT_TYPES: readonly ArtifactType[] = ['binary', 'cni', 'image'];

/**
 * The binaries every kubeadm host installs, and the CNI plugins the default pod network (bridge with
 * host-local IPAM, plus portmap and loopback) needs. containerd and runc are the site's to bring where its
 * hosts lack them, so they may be in a Release but are not required.
 */
export const REQUIRED_BINARIES = ['kubeadm', 'kubelet', 'kubectl'] as const;
export const REQUIRED_CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

export interface RequiredArtifact {
  type: ArtifactType;
  name: string;
  /** Why the Release needs it, for the message that names a missing one. */
  why: string;
}

/**
 * What a cluster of this Release needs, derived from what the Release says: an archive for every image
 * in spec.components (kubeadm pulls them all; an air-gapped site can pull none), and the binaries and CNI
 * plugins kubeadm needs. A Release's artifact list must hold all of them, so no mirror list can miss one.
 */
export function requiredArtifacts(spec: { components?: Record<string, string> | null } | null | undefined): RequiredArtifact[] {
  const images = Object.entries(spec?.components ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([component, ref]): RequiredArtifact => ({ type: 'image', name: ref, why: `spec.components.${component}` }));
  return [
    ...REQUIRED_BINARIES.map((name): RequiredArtifact => ({ type: 'binary', name, why: 'every kubeadm host runs it' })),
    ...REQUIRED_CNI_PLUGINS.map((name): RequiredArtifact => ({ type: 'cni', name, why: 'the default pod network needs it' })),
    ...images,
  ];
}

/** The required artifacts `artifacts` lacks (matched by type and name), in requiredArtifacts' order. */
export function missingArtifacts(spec: { components?: Record<string, string> | null; artifacts?: ReadonlyArray<{ type?: string | null; name?: string | null }> | null } | null | undefined): RequiredArtifact[] {
  const have = new Set((spec?.artifacts ?? []).map((a) => `${a.type ?? ''}\u0000${a.name ?? ''}`));
  return requiredArtifacts(spec).filter((r) => !have.has(`${r.type}\u0000${r.name}`));
}

/** One line per missing artifact, for an operator: what it is and why the Release needs it. */
export function describeMissing(missing: readonly RequiredArtifact[]): string {
  return missing.map((m) => `${m.type} ${m.name} (${m.why})`).join(', ');
}

/**
 * A release directory, as `outpost release import DIR` reads it and `npm run world -- release` writes it:
 * the Release in `release.yaml`, and each artifact in the folder of its type, under the name a host
 * installs it by (bin/kubeadm, cni/bridge); image archives (docker-archive or OCI layout tars) in images/,
 * each named inside by the references it holds.
 */
export const RELEASE_MANIFEST = 'release.yaml';
export const RELEASE_DIRS: Readonly<Record<ArtifactType, string>> = { binary: 'bin', cni: 'cni', image: 'images' };
