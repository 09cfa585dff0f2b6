// `outpost-agent bundle import`: an air-gapped bundle enters the agent as a network Sync does. Everything
// is checked first (bundle-reader.ts); then the artifacts go into the cache, and the changes, the statuses
// the hub says it recorded, the Clusters' CAs it carries (opened first: bundle-cluster-keys.ts) and the
// bundle's own record commit in one SQLite transaction. The reconcilers
// act on them as on any Sync: at once in a running agent's next resync, or when `run --offline` starts.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { caCertHash, CA_CERT_HASH_RE, endorsementValid, pb, rfc3339, type BundleEnrollment, type BundleManifest, type Cluster, type Release } from '@outpost/proto';
import { ArtifactCache, ArtifactDigestMismatch, DEFAULT_ARTIFACT_CACHE_BYTES, ArtifactSetTooLarge, ArtifactTooLarge, digestsInUse } from '../artifacts/index.js';
import { ensureEncryptionKey } from '../encryption-key.js';
import { identityPath, loadIdentity, saveIdentity, statePath, type Identity } from '../identity.js';
import { applyChanges } from '../link/apply-changes.js';
import { keyOf, type AppliedChange } from '../state/local-state.js';
import { SqliteLocalState } from '../state/sqlite-local-state.js';
import { openBundleKeys, type OpenedClusterKeys } from './bundle-cluster-keys.js';
import { bundleFiles } from './bundle-files.js';
import { readBundle } from './bundle-reader.js';
import { BundleRefused } from './errors.js';

export interface ImportOptions {
  dataDir: string;
  files: readonly string[];
  /** For an enrolling bundle into an empty data directory: the hub CA's pin, as join takes it. */
  caHash?: string | undefined;
  /** The artifact cache's size limit (--artifact-cache-size, as the agent runs with). Default 20 GiB. */
  cacheBytes?: number | undefined;
}

export interface ImportResult {
  /** False when this very bundle was imported before: nothing was done. */
  applied: boolean;
  manifest: BundleManifest;
  enrolled: boolean;
  changed: AppliedChange[];
  blobs: number;
  revision: number;
  /** Clusters whose CAs the bundle brought (and the agent now keeps). */
  clusterKeys: number;
  /** Clusters the agent holds and has no CAs for, after the import. */
  clustersWithoutKeys: number;
}

/** Refuses what the agent must not apply on top of what it holds. */
function checkAgainst(m: BundleManifest, identity: Identity | undefined, revision: number, imported: (id: string) => boolean): void {
  if (identity) {
    const site = identity.view.replace(/^site\//, '');
    if (m.view !== identity.view) throw new BundleRefused('FOREIGN', `the bundle is for site ${m.site} (view ${m.view}), but this agent serves ${identity.view}: take the bundle to its own site; nothing was applied`);
    if (m.agentId !== identity.agentId) throw new BundleRefused('FOREIGN', `the bundle is for agent ${m.agentId} of site ${site}, but this agent is ${identity.agentId} (the site was enrolled or joined again since): make a new bundle for this site; nothing was applied`);
  }
  if (imported(m.id)) return;
  // One at the revision held is no replay of anything older: its changes are what the agent holds (applying
  // them changes nothing), and it may carry what no revision shows: the cluster CAs a hub seals once it has
  // learned this agent's key from its status bundle, with nothing else changed since the last bundle.
  if (m.targetRevision < revision) {
    throw new BundleRefused('OLDER', `the bundle brings revision ${m.targetRevision}, but this agent already holds revision ${revision}: it is older than what the site has (a replay); nothing was applied. Import a newer bundle`);
  }
  // A delta from a base at or below what the agent holds is whole: it carries every change since its base.
  if (!m.snapshot && m.baseRevision > revision) {
    throw new BundleRefused('GAP', `the bundle is a delta from revision ${m.baseRevision}, but this agent holds revision ${revision}: changes in between would be missing; import the bundles before it, or make one with --since ${revision}; nothing was applied`);
  }
}

function enrollmentKey(e: BundleEnrollment | undefined, caHash: string | undefined): string {
  if (!e) throw new BundleRefused('NOT_ENROLLED', 'this data directory holds no agent, and the bundle is not an enrolling one: make the site\'s first bundle with `outpost bundle create --site S --enroll`, or join the agent');
  if (!caHash) throw new BundleRefused('CA_MISMATCH', `an enrolling bundle needs the hub CA's pin: give --ca-hash sha256:... (printed by \`outpost bundle create --enroll\`); nothing was applied`);
  const actual = caCertHash(e.caCertPem);
  if (actual !== caHash) throw new BundleRefused('CA_MISMATCH', `the enrolling bundle's hub CA hash is ${actual}, not the ${caHash} you pinned: it is not from your hub; nothing was applied`);
  if (!endorsementValid(e.caCertPem, e.bundleKey, e.bundleKeyEndorsement)) throw new BundleRefused('TAMPERED', "the enrolling bundle's signing key is not vouched for by its hub CA; nothing was applied");
  return e.bundleKey;
}

/**
 * Keeps each opened Cluster's CAs under its uid, for a Cluster the agent holds under that uid once the
 * bundle's changes are applied (as keys from the link are kept); returns how many.
 */
function keepClusterKeys(state: SqliteLocalState, opened: readonly OpenedClusterKeys[]): number {
  const held = new Map(state.list('Cluster').map((c) => [c.metadata.uid ?? '', keyOf(c)]));
  let kept = 0;
  for (const o of opened) {
    const k = held.get(o.uid);
    if (!k || k.namespace !== o.cluster.namespace || k.name !== o.cluster.name) continue;
    state.clusterKeys().put(o.uid, k, o.keys);
    kept++;
  }
  return kept;
}

/** The bundle's blobs into the cache, all of them fitting or none taken; a refusal names what to do. */
async function adoptBlobs(cache: ArtifactCache, blobs: ReadonlyArray<{ digest: string; file: string }>): Promise<void> {
  try {
    await cache.adoptAll(blobs);
  } catch (err) {
    if (err instanceof ArtifactSetTooLarge || err instanceof ArtifactTooLarge) throw new BundleRefused('CACHE_FULL', `${err.message} (give the same --artifact-cache-size to \`bundle import\` as to \`run\`); nothing was applied`, { cause: err });
    // Verified as the bundle was read: bytes that changed since were changed on this disk.
    if (err instanceof ArtifactDigestMismatch) throw new BundleRefused('DISK', `artifact ${err.digest} changed on this disk after it was verified (it now hashes to ${err.actual}): check the disk, then import again; nothing was applied`, { cause: err });
    throw err;
  }
}

export async function importBundle(opts: ImportOptions): Promise<ImportResult> {
  if (opts.caHash !== undefined && !CA_CERT_HASH_RE.test(opts.caHash)) throw new BundleRefused('CA_MISMATCH', `--ca-hash ${opts.caHash} is not sha256:<64 hex digits>`);
  const files = bundleFiles(opts.files);
  const identity = existsSync(identityPath(opts.dataDir)) ? loadIdentity(opts.dataDir) : undefined;
  if (!identity && existsSync(opts.dataDir) && readdirSync(opts.dataDir).some((f) => f !== 'artifacts')) {
    throw new BundleRefused('NOT_ENROLLED', `${opts.dataDir} holds files but no agent identity: an enrolling bundle goes into an empty directory`);
  }
  if (identity && !identity.bundleKey) {
    throw new BundleRefused('NOT_PINNED', "this agent has not pinned the hub's bundle signing key: connect it to the hub once (its Welcome carries the key), then import; nothing was applied");
  }
  // An empty directory gets its state.db only once an enrolling bundle has been verified.
  let state = identity ? new SqliteLocalState(statePath(opts.dataDir)) : undefined;
  // The agent's own cache (as `run` keeps it: verified, under its size limit, evicting first what no Cluster
  // the agent holds uses); the blobs are written as they are read into a directory of its own, so taking
  // them in is a rename, and nothing of a running agent's downloads beside it is touched.
  const cache = new ArtifactCache({
    dataDir: opts.dataDir,
    maxBytes: opts.cacheBytes ?? DEFAULT_ARTIFACT_CACHE_BYTES,
    inUse: () => (state ? digestsInUse(state.list('Cluster') as Cluster[], state.list('Release') as Release[]) : new Set()),
  });
  const tempDir = cache.stagingDir();
  try {
    const bundle = await readBundle(files, {
      tempDir,
      check: (m) => checkAgainst(m, identity, state?.revision() ?? 0, (id) => state?.bundleImported(id) ?? false),
      signingKey: (e) => (identity ? identity.bundleKey! : enrollmentKey(e, opts.caHash)),
    });
    const m = bundle.manifest;
    if (state?.bundleImported(m.id)) {
      for (const b of bundle.blobs) rmSync(b.file, { force: true });
      return { applied: false, manifest: m, enrolled: false, changed: [], blobs: 0, revision: state.revision(), clusterKeys: 0, clustersWithoutKeys: 0 };
    }
    // Again, now that the manifest is known to be the hub's.
    checkAgainst(m, identity, state?.revision() ?? 0, () => false);
    const enrollment = identity ? undefined : bundle.enrollment;
    if (!identity && !enrollment) throw new BundleRefused('NOT_ENROLLED', 'the bundle carries no identity for this empty data directory');
    if (enrollment && (enrollment.agentId !== m.agentId || enrollment.view !== m.view)) throw new BundleRefused('TAMPERED', 'the enrolling bundle names another agent than its manifest');
    // Before anything is applied: a Cluster's CAs that do not open refuse the whole bundle.
    const opened = openBundleKeys(opts.dataDir, m, bundle.clusterKeys);
    // Artifacts first: the cache is by content, so one adopted by an import that then fails harms nothing.
    await adoptBlobs(cache, bundle.blobs);
    // Only now, for an enrolling bundle: a refusal before leaves the directory as empty as it was.
    state ??= new SqliteLocalState(statePath(opts.dataDir));
    if (enrollment) {
      const { hub, agentId, credential, caCertPem, view, bundleKey } = enrollment;
      saveIdentity(opts.dataDir, { hub, agentId, credential, caCertPem, view, bundleKey });
      // On first need: the status bundle the site writes next carries its public half to the hub.
      ensureEncryptionKey(opts.dataDir);
    }
    const answer = pb.Changes.decode(bundle.changes);
    const held = state;
    const changed = held.transaction(() => {
      const applied = applyChanges(held, { snapshot: !!answer.snapshot, revision: Number(answer.revision ?? 0), changes: answer.changes ?? [] });
      // The hub recorded these statuses from a status bundle: the outbox may forget them, as after an Ack.
      if (m.statusSeq) held.statusesStored(m.statusSeq);
      const kept = keepClusterKeys(held, opened);
      held.recordBundle(m.id, m.targetRevision, rfc3339(new Date()));
      return { applied, kept };
    });
    const withoutKeys = held.list('Cluster').filter((c) => c.metadata.uid && !held.clusterKeys().has(c.metadata.uid)).length;
    return { applied: true, manifest: m, enrolled: !!enrollment, changed: changed.applied, blobs: bundle.blobs.length, revision: state.revision(), clusterKeys: changed.kept, clustersWithoutKeys: withoutKeys };
  } finally {
    state?.close();
    rmSync(tempDir, { recursive: true, force: true });
  }
}
