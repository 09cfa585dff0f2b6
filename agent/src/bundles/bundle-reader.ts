// Reads a bundle's stream once and checks all of it before anything is applied: the manifest first (its
// format, its length against the files, the caller's checks of site and revisions), every member against
// the digest and size the manifest lists, blobs written to temporary files as they pass, and at the end
// the signature over every byte before the tail, and the tail byte for byte.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BLOB_PREFIX, BundleFormatError, CHANGES_MEMBER, CLUSTER_KEYS_MEMBER, ENROLL_MEMBER, MANIFEST_MEMBER, memberHeader, readClusterKeysMember, readManifest, SIGNATURE_BYTES, SIGNATURE_MEMBER, signatureValid, TAIL_BYTES,
  type BundleEnrollment, type BundleManifest, type BundleMember, type ClusterKeysMember,
} from '@outpost/proto';
import tar from 'tar-stream';
import type { BundleFile } from './bundle-files.js';
import { BundleRefused } from './errors.js';
import { LaggedDigest } from './lagged-digest.js';

export interface VerifiedBundle {
  manifest: BundleManifest;
  enrollment?: BundleEnrollment;
  changes: Buffer;
  /** The Clusters' CAs, still sealed (bundle-cluster-keys.ts opens them). */
  clusterKeys?: ClusterKeysMember;
  /** Each blob in a temporary file, its digest checked. */
  blobs: Array<{ digest: string; file: string }>;
}

export interface ReadOptions {
  /** For the blobs' temporary files. */
  tempDir: string;
  /** Checks the manifest (and the enrolment, once read) as soon as they are known; throws BundleRefused. */
  check(manifest: BundleManifest): void;
  /** The key the signature must verify with, asked once the enrolment member (if any) is read. */
  signingKey(enrollment: BundleEnrollment | undefined): string;
}

const tampered = (what: string): BundleRefused => new BundleRefused('TAMPERED', `the bundle is damaged or was altered: ${what}; nothing was applied. Copy it again from the hub, or make a new one`);

const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** The stream of the files one after another. */
function concatenated(files: readonly BundleFile[]): Readable {
  return Readable.from((async function* () {
    for (const f of files) yield* createReadStream(f.path, { highWaterMark: 1 << 20 });
  })());
}

/** Hashes what passes through it. */
class Hasher extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

async function collect(stream: AsyncIterable<unknown>, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const chunk = c as Buffer;
    n += chunk.length;
    if (n > limit) throw tampered(`${name} is larger than the manifest says`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The tail the hub writes after everything it signed: the signature member and tar's end of archive. */
async function expectedTail(signature: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry(memberHeader(SIGNATURE_MEMBER, signature.length), signature);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function checkLength(manifest: BundleManifest, files: readonly BundleFile[]): void {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (manifest.parts.length !== files.length) {
    throw new BundleRefused(files.length < manifest.parts.length ? 'MISSING_PART' : 'PART_ORDER', `the bundle has ${manifest.parts.length} parts but ${files.length} ${files.length === 1 ? 'file was' : 'files were'} given; give every part, in order`);
  }
  for (const [i, part] of manifest.parts.entries()) {
    const f = files[i]!;
    if (f.size < part.size) throw new BundleRefused('TRUNCATED', `${f.path} is ${f.size} bytes but the bundle says ${part.size}: it is truncated (a copy cut short?); copy it again`);
    if (f.size > part.size) throw tampered(`${f.path} is ${f.size} bytes, longer than the ${part.size} the bundle says`);
  }
  if (total !== manifest.totalBytes) throw tampered(`it is ${total} bytes, not the ${manifest.totalBytes} its manifest says`);
}

export async function readBundle(files: readonly BundleFile[], opts: ReadOptions): Promise<VerifiedBundle> {
  mkdirSync(opts.tempDir, { recursive: true, mode: 0o700 });
  const lagged = new LaggedDigest(TAIL_BYTES);
  const extract = tar.extract();
  const source = concatenated(files);
  const feeding = pipeline(source, lagged, extract);
  // Refusals raised while reading entries win over the pipeline's own error (the destroy it causes).
  feeding.catch(() => undefined);
  const temps: string[] = [];
  let manifest: BundleManifest | undefined;
  let enrollment: BundleEnrollment | undefined;
  let changes: Buffer | undefined;
  let clusterKeys: ClusterKeysMember | undefined;
  let signature: Buffer | undefined;
  const blobs: VerifiedBundle['blobs'] = [];
  let next = 0;
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (!manifest) {
        if (name !== MANIFEST_MEMBER) throw tampered('it does not begin with a manifest');
        try {
          manifest = readManifest((await collect(entry, 1 << 24, MANIFEST_MEMBER)).toString('utf8'));
        } catch (err) {
          if (err instanceof BundleFormatError) throw new BundleRefused(/is format version \d+;/.test(err.message) ? 'UNKNOWN_VERSION' : 'TAMPERED', err.message, { cause: err });
          throw err;
        }
        checkLength(manifest, files);
        opts.check(manifest);
        continue;
      }
      if (signature) throw tampered(`${name} follows the signature`);
      if (name === SIGNATURE_MEMBER) {
        if (next !== manifest.members.length) throw tampered(`it ends after ${next} of the ${manifest.members.length} members its manifest lists`);
        signature = await collect(entry, SIGNATURE_BYTES, SIGNATURE_MEMBER);
        continue;
      }
      const member: BundleMember | undefined = manifest.members[next++];
      if (!member || member.name !== name || entry.header.size !== member.size) throw tampered(`member ${name} is not the one its manifest lists there (${member?.name ?? 'none'})`);
      if (name.startsWith(BLOB_PREFIX)) {
        const file = join(opts.tempDir, `${randomUUID()}.partial`);
        temps.push(file);
        const hasher = new Hasher();
        try {
          await pipeline(entry as unknown as Readable, hasher, createWriteStream(file, { mode: 0o600, highWaterMark: 1 << 20 }));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (DISK_ERRORS.has(code)) throw new BundleRefused('DISK', `the disk filled while writing the bundle's artifacts (${code} in ${opts.tempDir}); nothing was applied: free space (it needs ${manifest.blobs.reduce((n, b) => n + b.size, 0)} bytes) and import again`, { cause: err });
          throw err;
        }
        if (`sha256:${hasher.hash.digest('hex')}` !== member.digest || hasher.bytes !== member.size) throw tampered(`artifact ${member.digest} does not match its digest`);
        blobs.push({ digest: member.digest, file });
        continue;
      }
      const data = await collect(entry, member.size, name);
      if (`sha256:${createHash('sha256').update(data).digest('hex')}` !== member.digest) throw tampered(`${name} does not match its digest`);
      if (name === CHANGES_MEMBER) changes = data;
      else if (name === ENROLL_MEMBER) enrollment = JSON.parse(data.toString('utf8')) as BundleEnrollment;
      else if (name === CLUSTER_KEYS_MEMBER) {
        try {
          clusterKeys = readClusterKeysMember(data.toString('utf8'));
        } catch (err) {
          if (err instanceof BundleFormatError) throw tampered(err.message);
          throw err;
        }
      }
      else throw tampered(`it holds an unknown member ${name}`);
    }
    await feeding;
    if (!manifest) throw new BundleRefused('TRUNCATED', 'the file holds no bundle manifest: it is empty or no Outpost bundle');
    if (!signature || changes === undefined) throw new BundleRefused('TRUNCATED', 'the bundle ends before its signature: it is truncated; copy it again');
    const { digest, tail } = lagged.result();
    if (!tail.equals(await expectedTail(signature))) throw tampered('its signature member or end of archive is not as the hub writes them');
    if (!signatureValid(signature.toString('utf8'), digest, opts.signingKey(enrollment))) throw tampered("its signature does not verify with the hub's bundle key this agent pinned");
    return { manifest, ...(enrollment ? { enrollment } : {}), ...(clusterKeys ? { clusterKeys } : {}), changes, blobs };
  } catch (err) {
    source.destroy();
    for (const t of temps) rmSync(t, { force: true });
    if (err instanceof BundleRefused) throw err;
    // tar's own complaints (a bad header checksum, a stream cut short) are a damaged or truncated file.
    const message = (err as Error).message;
    if (/unexpected end|premature|truncated/i.test(message)) throw new BundleRefused('TRUNCATED', `the bundle ends early (${message}): it is truncated; copy it again`, { cause: err });
    if (/tar|header|checksum/i.test(message)) throw tampered(message);
    throw err;
  }
}
