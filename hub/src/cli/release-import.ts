// `outpost release import DIR`: every artifact of a release directory into the hub's content store
// (what the hub already holds is not sent again), then the Release of DIR/release.yaml created or
// replaced with their names, types, digests and sizes. A big upload shows a progress bar on a terminal.
import { formatByteSize, type Release } from '@outpost/proto';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { BlobClient } from '../client/blob-client.js';
import { readConfig } from './config.js';
import { readReleaseDir, type DirArtifact } from './release-dir.js';
import { kindArg } from './usage.js';

export interface ImportOutput {
  /** Lines for the operator (stdout). */
  line(text: string): void;
  /** Whether to draw a progress bar (stderr is a terminal). */
  tty: boolean;
}

/** The Release's artifact list: one entry per (type, name), in the directory's order. */
function artifactList(artifacts: readonly DirArtifact[]): NonNullable<Release['spec']>['artifacts'] {
  return artifacts.map((a) => ({ name: a.name, type: a.type, digest: a.digest, size: a.size, ...(a.platform ? { platform: a.platform } : {}) }));
}

/** Creates the Release, or replaces the live one's spec and labels (keeping what the hub keeps). */
async function upsert(api: ApiClient, release: Release): Promise<'created' | 'updated'> {
  const kind = kindArg('releases');
  const name = release.metadata.name ?? '';
  try {
    const live = await api.get<Release>(kind, name);
    await api.replace({ ...live, metadata: { ...live.metadata, labels: release.metadata.labels ?? live.metadata.labels ?? {} }, spec: release.spec });
    return 'updated';
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    await api.create(release);
    return 'created';
  }
}

export async function importRelease(api: ApiClient, blobs: BlobClient, dir: string, out: ImportOutput): Promise<Release> {
  out.line(`reading ${dir}`);
  // Hashing a large release takes a while too: a bar over the files as they are hashed.
  const hashing = out.tty ? new SingleBar({ format: 'hashing   [{bar}] {value}/{total} files | {file}', hideCursor: true, clearOnComplete: true }, Presets.shades_classic) : undefined;
  let hashed = 0;
  hashing?.start(1, 0, { file: '' });
  let read: Awaited<ReturnType<typeof readReleaseDir>>;
  try {
    read = await readReleaseDir(dir, (file, _size, total) => {
      hashing?.setTotal(total);
      hashing?.update(hashed++, { file });
    });
  } finally {
    hashing?.stop();
  }
  const { release, artifacts } = read;
  // One upload per blob: an image archive named by two references is one file.
  const files = new Map<string, DirArtifact>();
  for (const a of artifacts) if (!files.has(a.digest)) files.set(a.digest, a);
  const toSend: DirArtifact[] = [];
  for (const a of files.values()) if (!(await blobs.has(a.digest))) toSend.push(a);
  const total = toSend.reduce((n, a) => n + a.size, 0);
  out.line(`${files.size} blobs (${formatByteSize([...files.values()].reduce((n, a) => n + a.size, 0))}), ${files.size - toSend.length} already at the hub; uploading ${toSend.length} (${formatByteSize(total)})`);
  const bar = out.tty && total > 0 ? new SingleBar({ format: 'uploading [{bar}] {percentage}% | {value}/{total} MiB | {file}', hideCursor: true, clearOnComplete: true }, Presets.shades_classic) : undefined;
  const mib = (n: number): number => Math.round(n / 1024 / 1024);
  let sent = 0;
  bar?.start(mib(total), 0, { file: '' });
  try {
    for (const a of toSend) {
      bar?.update(mib(sent), { file: a.file });
      await blobs.put(a.digest, a.file, a.size, (n) => {
        sent += n;
        bar?.update(mib(sent), { file: a.file });
      });
      if (!bar) out.line(`  uploaded ${a.file} (${formatByteSize(a.size)}) as ${a.digest}`);
    }
  } finally {
    bar?.stop();
  }
  const imported: Release = { ...release, spec: { ...release.spec, artifacts: artifactList(artifacts) } };
  const verb = await upsert(api, imported);
  out.line(`release.outpost.dev/${release.metadata.name} ${verb} with ${artifacts.length} artifacts`);
  return imported;
}

export function registerRelease(program: Command, client: () => ApiClient): void {
  const release = program.command('release').description('Releases: the Kubernetes versions Outpost installs, and their artifacts');
  release
    .command('import')
    .description("upload a release directory's artifacts (bin/, cni/, images/) to the hub's content store, then create or update the Release of its release.yaml with their digests")
    .argument('<dir>', 'release directory: release.yaml, bin/, cni/, images/')
    .action(async (dir: string) => {
      const ctx = readConfig(program.opts<{ context?: string }>().context);
      await importRelease(client(), new BlobClient({ hub: ctx.hub, token: ctx.token, caCertPem: ctx.caCert }), dir, { line: (t) => process.stdout.write(`${t}\n`), tty: process.stderr.isTTY === true });
    });
}
