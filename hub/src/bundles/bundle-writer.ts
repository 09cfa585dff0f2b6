// Writes one air-gapped sync bundle for a site (the format: proto/src/bundle/bundle-format.ts): the
// changes of its view from a base revision, as the gateway answers a Sync, and the artifacts its
// Clusters' Releases list that the base did not carry, read from the hub's content store, and, once the
// hub knows the agent's encryption key (from its status bundle), the CAs of every Cluster in the view,
// sealed to that key: in full bundles and deltas alike (a few KB a Cluster, and an agent whose state was
// restored from an older copy gets them again without asking).
import { createHash, randomUUID, sign } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BUNDLE_FORMAT, blobMember, bundleKeyEndorsed, memberHeader, CHANGES_MEMBER, CLUSTER_KEYS_MEMBER, ENROLL_MEMBER, keyFingerprint, MANIFEST_MEMBER, memberBytes, partsOf, pb, rfc3339, sealClusterKeys, SEALED_KEYS_ALG,
  SIGNATURE_MEMBER, signatureText, siteView, TAIL_BYTES, x25519PublicKey,
  type BundleBlob, type BundleEnrollment, type BundleManifest, type BundleMember, type Cluster, type ClusterKeys, type ClusterKeysMember, type Release, type SealedClusterKeys, type Site,
} from '@outpost/proto';
import tar from 'tar-stream';
import { createAgent } from '../auth/agent-identity.js';
import { HubError, NotFoundError } from '../errors.js';
import { changesFrames } from '../gateway/changes-frames.js';
import { DELIVER_KEYS_VERB } from '../gateway/cluster-secrets.js';
import type { ClusterPki } from '../pki/cluster-pki.js';
import { servesDatacenter } from '../store/views.js';
import type { Store } from '../store/store.js';
import { signStreamDigest, type BundleSigningKey } from './signing-key.js';

export interface BundleRequest {
  site: string;
  /** The base revision: 0 for a full bundle. */
  since: number;
  /** Digests the base carried (from an earlier bundle's manifest), besides what this hub's own bundles did. */
  carried?: readonly string[];
  /** Split into parts of at most this many bytes (0: one file). */
  maxPartBytes: number;
  /** Create the site's Agent and carry its identity. */
  enroll: boolean;
}

export interface BundleWriterOptions {
  store: Store;
  /** `<hub data dir>/blobs/sha256/<hex>` holds the content store (artifacts/blob-store.ts writes it). */
  blobDir: string;
  /** Keeps blobs from the garbage collector while the bundle streams them; returns the release. */
  hold?: (digests: readonly string[]) => () => void;
  key: BundleSigningKey;
  caCertPem: string;
  /** The hub CA's key: it endorses the bundle key an enrolling bundle carries. */
  caKeyPem: string;
  version: string;
  /** Opens each Cluster's CAs of record, to seal them to the site agent's key. */
  pki: ClusterPki;
}

/** What a bundle carries of its Clusters' CAs, for the one who made it to read. */
export interface BundleClusterKeys {
  /** Clusters in the site's view. */
  clusters: number;
  /** Of them, how many the bundle carries the CAs of. */
  sealed: number;
  /** The fingerprint of the agent key they are sealed to; absent when the hub does not know the agent's key. */
  agentKey?: string;
  /** Clusters of the view the hub holds no CA of record for (made before the hub kept them): the first WITHOUT_CA_NAMED. */
  withoutCa: string[];
  /** How many such Clusters in all. */
  withoutCaCount: number;
}

export interface WrittenBundle {
  manifest: BundleManifest;
  /** The tar stream, `manifest.totalBytes` long; the bundle is recorded as made once it has ended. */
  stream: Readable;
  clusterKeys: BundleClusterKeys;
}

/** At most this many Clusters are named in a bundle's report (it travels in a response header). */
const WITHOUT_CA_NAMED = 20;

const conflict = (message: string): HubError => new HubError(409, 'Conflict', message);
const normalVersion = (v: string | null | undefined): string => (v ?? '').replace(/^v/, '');

/** `sha256:<hex>` -> its file in the content store. */
export const blobPath = (blobDir: string, digest: string): string => join(blobDir, 'sha256', digest.slice('sha256:'.length));

/** The artifacts the site's view needs now: every one listed by a Release whose version a Cluster of the view runs. */
function neededBlobs(store: Store, view: string): Map<string, { size: number; what: string }> {
  const versions = new Set(store.list<Cluster>('Cluster').filter((c) => store.inView(view, { kind: 'Cluster', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '' })).map((c) => normalVersion(c.spec?.version)));
  const out = new Map<string, { size: number; what: string }>();
  for (const r of store.list<Release>('Release')) {
    if (!versions.has(normalVersion(r.spec?.version))) continue;
    for (const a of r.spec?.artifacts ?? []) if (a.digest) out.set(a.digest, { size: Number(a.size ?? 0), what: `${a.name ?? a.digest} of Release ${r.metadata.name}` });
  }
  return out;
}

/**
 * Hashes every byte that passes until `until` bytes have (the stream before the signature member), and
 * then resolves `reached` with the digest.
 */
class LeadingDigest extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;
  readonly reached: Promise<string>;
  private resolve!: (hex: string) => void;

  constructor(private readonly until: number) {
    super();
    this.reached = new Promise((r) => (this.resolve = r));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const left = this.until - this.seen;
    if (left > 0) {
      this.hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
      this.seen += Math.min(left, chunk.length);
      if (this.seen === this.until) this.resolve(this.hash.digest('hex'));
    }
    done(null, chunk);
  }
}

export class BundleWriter {
  constructor(private readonly opts: BundleWriterOptions) {}

  /**
   * The CAs of every Cluster in `view`, each sealed to the agent's key for this bundle, and each delivery
   * audited as one over the link is; inside the snapshot's transaction, so they are the view's Clusters.
   */
  private sealedKeys(view: string, agentId: string, bundleId: string): { member?: ClusterKeysMember; report: BundleClusterKeys } {
    const { store, pki } = this.opts;
    // Only the Clusters the site serves: a hosted Cluster in its view for its static workers is the seed's,
    // and the site's agent never holds its CAs (gateway/cluster-secrets.ts gives it join secrets only).
    const clusters = store
      .list<Cluster>('Cluster')
      .filter((c) => store.inView(view, { kind: 'Cluster', namespace: c.metadata.namespace ?? '', name: c.metadata.name ?? '' }) && servesDatacenter(c, view, { datacenter: (n) => store.get('Datacenter', '', n) }));
    const known = store.agentKeys.get(agentId);
    if (!known) return { report: { clusters: clusters.length, sealed: 0, withoutCa: [], withoutCaCount: 0 } };
    const recipient = x25519PublicKey(known.publicKeyPem);
    const sealed: SealedClusterKeys[] = [];
    const withoutCa: string[] = [];
    for (const c of clusters) {
      const namespace = c.metadata.namespace ?? '';
      const name = c.metadata.name ?? '';
      const uid = c.metadata.uid ?? '';
      const row = store.clusterPki.get(namespace, name);
      if (!row || row.uid !== uid) {
        withoutCa.push(`${namespace}/${name}`);
        continue;
      }
      let opened: ClusterKeys;
      try {
        opened = pki.keys(row);
      } catch (err) {
        throw new HubError(500, 'InternalError', `the hub could not open the CAs of record of Cluster ${namespace}/${name} (${(err as Error).message}): is secrets.key this hub directory's own? No bundle was written`, [], { cause: err });
      }
      sealed.push(sealClusterKeys(recipient, { agentId, clusterUid: uid, bundleId }, { namespace, name }, opened));
      store.recordAudit({ actor: `agent:${agentId}` }, DELIVER_KEYS_VERB, { kind: 'Cluster', namespace, name });
    }
    const agentKey = keyFingerprint(recipient);
    const report = { clusters: clusters.length, sealed: sealed.length, agentKey, withoutCa: withoutCa.slice(0, WITHOUT_CA_NAMED), withoutCaCount: withoutCa.length };
    return sealed.length ? { member: { v: 1, alg: SEALED_KEYS_ALG, recipient: agentKey, clusters: sealed }, report } : { report };
  }

  create(req: BundleRequest, hubUrl: string): WrittenBundle {
    const { store } = this.opts;
    const site = store.get<Site>('Site', '', req.site);
    if (!site) throw new NotFoundError({ kind: 'Site', namespace: '', name: req.site });
    if (req.enroll && req.since) throw new HubError(400, 'BadRequest', '--enroll makes a full bundle for a site that has never been online; leave out --since');
    if (req.since > store.revision()) throw new HubError(400, 'BadRequest', `--since ${req.since} is past the hub's revision ${store.revision()}: that bundle is not from this hub`);
    const view = siteView(req.site);
    const created = rfc3339(new Date());
    // Known before the sealing: each Cluster's keys are sealed for this bundle alone.
    const bundleId = randomUUID();
    // The enrolment, the snapshot and the sealed CAs in one read: the Agent made here is in no view, so the snapshot is the same either way.
    const { enrollment, sync, agentId, statusSeq, keys } = store.transaction(() => {
      let enrollment: BundleEnrollment | undefined;
      let agentId = site.status?.agent ?? '';
      if (req.enroll) {
        const joined = createAgent(store, 'site', req.site, `bundle-${randomUUID().slice(0, 8)}`, this.opts.version, { actor: `bundle:${req.site}` });
        agentId = joined.agentId;
        enrollment = { hub: hubUrl, agentId, credential: joined.credential, caCertPem: this.opts.caCertPem, view: joined.view, bundleKey: this.opts.key.publicKeyPem, bundleKeyEndorsement: sign('sha256', bundleKeyEndorsed(this.opts.key.publicKeyPem), this.opts.caKeyPem).toString('hex') };
      }
      if (!agentId) throw conflict(`Site ${req.site} has no agent yet: make its first bundle with --enroll (a site that has never been online), or join its agent with a bootstrap token`);
      return { enrollment, sync: store.syncView(view, req.since), agentId, statusSeq: store.bundleLedger.statusSeq(agentId), keys: this.sealedKeys(view, agentId, bundleId) };
    });
    // The answer to a Sync from `since`, as one Changes (a file has no frame limit).
    const [frame] = changesFrames(sync, req.since, Number.POSITIVE_INFINITY);
    const changes = Buffer.from(pb.Changes.encode(frame!.changes!).finish());
    const carried = new Set([...(req.carried ?? []), ...(req.since ? store.bundleLedger.carriedUpTo(agentId, req.since) : [])]);
    const blobs: BundleBlob[] = [];
    for (const [digest, { size, what }] of [...neededBlobs(store, view)].sort(([a], [b]) => a.localeCompare(b))) {
      if (carried.has(digest)) continue;
      let onDisk: number;
      try {
        onDisk = statSync(blobPath(this.opts.blobDir, digest)).size;
      } catch {
        throw conflict(`artifact ${what} (${digest}) is not in the hub's content store; import the release's files (outpost release import DIR) and make the bundle again`);
      }
      if (size && onDisk !== size) throw conflict(`artifact ${what} (${digest}) is ${onDisk} bytes in the content store, but its Release says ${size}: import the release again`);
      blobs.push({ digest, size: onDisk });
    }
    const enrollText = enrollment ? Buffer.from(JSON.stringify(enrollment)) : undefined;
    const keysText = keys.member ? Buffer.from(JSON.stringify(keys.member)) : undefined;
    const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const members: BundleMember[] = [
      ...(enrollText ? [{ name: ENROLL_MEMBER, digest: sha(enrollText), size: enrollText.length }] : []),
      { name: CHANGES_MEMBER, digest: sha(changes), size: changes.length },
      ...(keysText ? [{ name: CLUSTER_KEYS_MEMBER, digest: sha(keysText), size: keysText.length }] : []),
      ...blobs.map((b) => ({ name: blobMember(b.digest), digest: b.digest, size: b.size })),
    ];
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT, id: bundleId, site: req.site, agentId, view, baseRevision: req.since, targetRevision: sync.revision, snapshot: sync.snapshot,
      created, statusSeq, members, blobs, totalBytes: 0, parts: [],
    };
    const afterManifest = members.reduce((n, m) => n + memberBytes(m.size), 0) + TAIL_BYTES;
    // The manifest states the stream's length and parts, which depend on its own length: settle it.
    let manifestText = '';
    for (let i = 0; i < 4; i++) {
      manifest.totalBytes = memberBytes(Buffer.byteLength(manifestText)) + afterManifest;
      manifest.parts = partsOf(manifest.totalBytes, req.maxPartBytes);
      const next = JSON.stringify(manifest);
      if (next === manifestText) break;
      manifestText = next;
    }
    if (memberBytes(Buffer.byteLength(manifestText)) + afterManifest !== manifest.totalBytes) throw new Error('the bundle manifest did not settle on its own length; this is a bug');
    const signedBytes = manifest.totalBytes - TAIL_BYTES;
    const pack = tar.pack();
    const digest = new LeadingDigest(signedBytes);
    const out = new PassThrough();
    const entry = memberHeader;
    const fill = async (): Promise<void> => {
      const put = (name: string, data: Buffer): Promise<void> => new Promise((resolve, reject) => pack.entry(entry(name, data.length), data, (err) => (err ? reject(err) : resolve())));
      await put(MANIFEST_MEMBER, Buffer.from(manifestText));
      if (enrollText) await put(ENROLL_MEMBER, enrollText);
      await put(CHANGES_MEMBER, changes);
      if (keysText) await put(CLUSTER_KEYS_MEMBER, keysText);
      for (const b of blobs) await pipeline(createReadStream(blobPath(this.opts.blobDir, b.digest), { highWaterMark: 1 << 20 }), pack.entry(entry(blobMember(b.digest), b.size)));
      const streamDigest = await digest.reached;
      await put(SIGNATURE_MEMBER, Buffer.from(signatureText(streamDigest, signStreamDigest(this.opts.key, streamDigest))));
      pack.finalize();
    };
    // Held from the stat above (this tick) until the last blob is read: a Release deleted meanwhile does
    // not take a blob out from under the bundle (artifacts/blob-gc.ts).
    const release = this.opts.hold?.(blobs.map((b) => b.digest)) ?? ((): void => undefined);
    fill().catch((err: unknown) => pack.destroy(err as Error)).finally(release);
    // Recorded once the whole stream has been read: only then did the base of a later delta carry these blobs.
    out.once('end', () => store.bundleLedger.made(manifest.id, agentId, manifest.targetRevision, blobs.map((b) => b.digest), created));
    pipeline(pack, digest, out).catch((err: unknown) => out.destroy(err as Error));
    return { manifest, stream: out, clusterKeys: keys.report };
  }
}
