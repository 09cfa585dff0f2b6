// `outpost artifacts gc [--dry-run]`: the hub's blob garbage collection now (artifacts/blob-gc.ts): each
// blob removed (or, in a dry run, that would be), the bytes freed, and what was kept and why.
import { BLOB_GC_PATH, formatByteSize, type BlobGcReport } from '@outpost/proto';
import type { Command } from 'commander';
import type { ApiClient } from '../client/api-client.js';

/** Seconds as --blob-gc-grace takes them: 86400 is 1d, 5400 is 90m. */
const asDuration = (s: number): string => (s % 86_400 === 0 ? `${s / 86_400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

/** The report as lines for a person: one per blob, then the sum. */
export function gcReportLines(r: BlobGcReport): string[] {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = r.removed.map((b) => `${verb} ${b.digest} (${formatByteSize(b.size)}, written ${b.modified})`);
  const kept = `kept ${r.referenced} a Release lists, ${r.fresh} younger than the grace of ${asDuration(r.graceSeconds)}, ${r.held} being read`;
  const sum = `${r.removed.length} ${r.removed.length === 1 ? 'blob' : 'blobs'} no Release lists, ${formatByteSize(r.freedBytes)}`;
  lines.push(r.dryRun ? `dry run: would remove ${sum}; nothing was removed; ${kept}` : `removed ${sum} freed; ${kept}`);
  return lines;
}

export function registerArtifacts(program: Command, client: () => ApiClient): void {
  const artifacts = program.command('artifacts').description("the hub's content store of artifacts");
  artifacts
    .command('gc')
    .description('remove the blobs no Release lists that are older than the hub\'s grace (--blob-gc-grace), now; the hub also does so by itself every --blob-gc-interval')
    .option('--dry-run', 'only say what would be removed')
    .action(async (o: { dryRun?: boolean }) => {
      const r = await client().call<BlobGcReport>('POST', `${BLOB_GC_PATH}?dryRun=${o.dryRun === true}`);
      for (const line of gcReportLines(r)) process.stdout.write(`${line}\n`);
    });
}
