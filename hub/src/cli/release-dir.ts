// Reading a release directory (layout: RELEASE_DIRS in proto): the Release of release.yaml, and every
// file as an artifact with its type, name, digest, size and platform. Refused, before anything is sent,
// when a file is where no artifact goes or the Release needs an artifact the directory lacks.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ARTIFACT_TYPES, describeMissing, missingArtifacts, RELEASE_DIRS, RELEASE_MANIFEST, type ArtifactType, type Release } from '@outpost/proto';
import { extract } from 'tar-stream';
import { parseManifests, readManifestSource } from './manifests.js';

export class ReleaseDirError extends Error {
  override readonly name = 'ReleaseDirError';
}

/** One artifact of the directory; an image archive holding several references is one per reference. */
export interface DirArtifact {
  file: string;
  type: ArtifactType;
  name: string;
  digest: string;
  size: number;
  platform: string;
}

export interface ReleaseDir {
  release: Release;
  artifacts: DirArtifact[];
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

const ELF_MACHINES: Record<number, string> = { 0x3e: 'amd64', 0xb7: 'arm64', 0x28: 'arm', 0x03: '386', 0xf3: 'riscv64', 0x15: 'ppc64le', 0x16: 's390x' };

/** "linux/amd64" for an ELF executable (its e_machine), "" for anything else (a script, say). */
function elfPlatform(file: string): string {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, head, 0, 20, 0) < 20 || head.readUInt32BE(0) !== 0x7f454c46) return '';
  } finally {
    closeSync(fd);
  }
  const arch = ELF_MACHINES[head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18)];
  return arch ? `linux/${arch}` : '';
}

/**
 * The image references an archive holds: a docker-archive's manifest.json RepoTags, or an OCI layout's
 * index.json names (containerd's io.containerd.image.name, else org.opencontainers.image.ref.name).
 */
export async function imageReferences(file: string): Promise<string[]> {
  const wanted = new Map<string, string>();
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (name !== 'manifest.json' && name !== 'index.json') {
      stream.on('end', next);
      return void stream.resume();
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      wanted.set(name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  try {
    await pipeline(createReadStream(file), tar);
  } catch (cause) {
    throw new ReleaseDirError(`${file} is not a tar archive of an image (${(cause as Error).message}); images/ holds docker-archive or OCI layout tars, such as \`ctr images export\` or \`docker save\` write`, { cause });
  }
  const refs = new Set<string>();
  try {
    const manifest = wanted.get('manifest.json');
    if (manifest) for (const m of JSON.parse(manifest) as Array<{ RepoTags?: string[] }>) for (const t of m.RepoTags ?? []) refs.add(t);
    const index = wanted.get('index.json');
    if (index) {
      for (const m of (JSON.parse(index) as { manifests?: Array<{ annotations?: Record<string, string> }> }).manifests ?? []) {
        const a = m.annotations ?? {};
        const ref = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
        if (ref && /[:@]/.test(ref)) refs.add(ref);
      }
    }
  } catch (cause) {
    throw new ReleaseDirError(`${file}: its manifest.json or index.json is not JSON (${(cause as Error).message})`, { cause });
  }
  if (refs.size === 0) throw new ReleaseDirError(`${file} names no image reference (no RepoTags in manifest.json, no image name in index.json); export it with its name, such as \`ctr images export FILE REF\``);
  return [...refs].sort();
}

function readRelease(dir: string): Release {
  const path = join(dir, RELEASE_MANIFEST);
  if (!existsSync(path)) throw new ReleaseDirError(`${dir} has no ${RELEASE_MANIFEST}: a release directory holds the Release (kind: Release, spec.version, spec.components) and its artifacts in ${Object.values(RELEASE_DIRS).join('/, ')}/`);
  const { text, source } = readManifestSource(path);
  const docs = parseManifests(text, source);
  if (docs.length !== 1 || docs[0]!.kind !== 'Release') throw new ReleaseDirError(`${path} must hold exactly one object of kind Release (it holds ${docs.map((d) => d.kind).join(', ') || 'none'})`);
  return docs[0] as Release;
}

/**
 * Reads and hashes the directory. `onFile` hears of each file (and how many there are) as it is hashed,
 * the long part on a large release. Throws ReleaseDirError naming a stray file or every missing artifact.
 */
export async function readReleaseDir(dir: string, onFile?: (file: string, size: number, files: number) => void): Promise<ReleaseDir> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReleaseDirError(`${dir} is not a directory; pass a release directory (such as one \`npm run world -- release --dir D\` writes)`);
  const release = readRelease(dir);
  const known = new Set<string>([RELEASE_MANIFEST, ...Object.values(RELEASE_DIRS)]);
  const stray = readdirSync(dir).filter((f) => !known.has(f));
  if (stray.length) throw new ReleaseDirError(`${dir} holds ${stray.map((f) => `"${f}"`).join(', ')}, which is no part of a release: artifacts go in ${Object.values(RELEASE_DIRS).join('/, ')}/ by type, beside ${RELEASE_MANIFEST}; nothing was uploaded`);
  const artifacts: DirArtifact[] = [];
  const listed = ARTIFACT_TYPES.flatMap((type) => {
    const sub = join(dir, RELEASE_DIRS[type]);
    return existsSync(sub) ? readdirSync(sub).sort().map((name) => ({ type, name, file: join(sub, name) })) : [];
  });
  for (const { type, name, file } of listed) {
    const st = statSync(file);
    if (!st.isFile()) throw new ReleaseDirError(`${relative(dir, file)} is not a file; ${RELEASE_DIRS[type]}/ holds one file per artifact; nothing was uploaded`);
    onFile?.(file, st.size, listed.length);
    const digest = await sha256(file);
    const base = { file, type, digest, size: st.size };
    if (type === 'image') for (const ref of await imageReferences(file)) artifacts.push({ ...base, name: ref, platform: '' });
    else artifacts.push({ ...base, name, platform: elfPlatform(file) });
  }
  const missing = missingArtifacts({ components: release.spec?.components ?? {}, artifacts });
  if (missing.length) throw new ReleaseDirError(`${dir} lacks what Release ${release.metadata.name} needs: ${describeMissing(missing)}; add ${missing.length === 1 ? 'it' : 'them'} (binaries in ${RELEASE_DIRS.binary}/, CNI plugins in ${RELEASE_DIRS.cni}/, image archives in ${RELEASE_DIRS.image}/); nothing was uploaded`);
  return { release, artifacts };
}
