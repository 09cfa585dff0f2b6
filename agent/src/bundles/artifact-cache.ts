// Where a bundle's blobs go: the agent's artifact cache, DIR/artifacts/sha256/<hex>, each file renamed
// into place whole (0600), as agent/src/artifacts/artifact-cache.ts keeps it. Kept this small on purpose:
// once that module is here, `adopt` is its `adopt(digest, file)`.
import { chmodSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const artifactDir = (dataDir: string): string => join(dataDir, 'artifacts', 'sha256');
/** Temporary files on the cache's own file system, so adopting one is a rename. */
export const artifactTempDir = (dataDir: string): string => join(dataDir, 'artifacts', 'tmp');

/** Moves `file` (verified to hold `digest`) into the cache. */
export function adopt(dataDir: string, digest: string, file: string): void {
  mkdirSync(artifactDir(dataDir), { recursive: true, mode: 0o700 });
  chmodSync(file, 0o600);
  renameSync(file, join(artifactDir(dataDir), digest.slice('sha256:'.length)));
}
