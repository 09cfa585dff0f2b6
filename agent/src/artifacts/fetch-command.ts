// `outpost-agent artifacts fetch --data DIR DIGEST...`: fills a site agent's cache ahead of need (before a
// maintenance window, say, on a slow uplink), through the same cache the reconcilers use: a download an
// earlier run left half done resumes, and nothing unverified is kept. Sizes come from the Releases the
// agent last received, so only what its view lists can be asked for.
import type { Release } from '@outpost/proto';
import type { Logger } from 'pino';
import { siteArtifactCache } from '../agent.js';
import { loadIdentity, statePath } from '../identity.js';
import { SqliteLocalState } from '../state/sqlite-local-state.js';
import { ArtifactFetchError } from './errors.js';

export interface FetchCommandOptions {
  dataDir: string;
  digests: readonly string[];
  cacheBytes?: number;
  maxBytesPerSecond?: number;
  out(line: string): void;
  log: Logger;
}

export async function fetchArtifacts(o: FetchCommandOptions): Promise<void> {
  const identity = loadIdentity(o.dataDir);
  const state = new SqliteLocalState(statePath(o.dataDir));
  try {
    const sizes = new Map<string, number>();
    for (const r of state.list('Release') as Release[]) for (const a of r.spec?.artifacts ?? []) if (a.digest) sizes.set(a.digest, Number(a.size ?? 0));
    const cache = siteArtifactCache({ dataDir: o.dataDir, ...(o.cacheBytes ? { artifactCacheBytes: o.cacheBytes } : {}), ...(o.maxBytesPerSecond ? { artifactMaxBytesPerSecond: o.maxBytesPerSecond } : {}) }, identity, state, o.log);
    for (const digest of o.digests) {
      const size = sizes.get(digest);
      if (size === undefined) throw new ArtifactFetchError(digest, `no Release this agent has received lists it; check the digest (outpost get release VERSION -o yaml), or run the agent so it syncs`);
      let resumedFrom = 0;
      let received = 0;
      const path = await cache.fetch(digest, size, undefined, (p) => {
        resumedFrom = p.resumedFrom;
        received = p.received;
      });
      const came = received - resumedFrom;
      o.out(`${digest} cached at ${path}${received === 0 ? ' (already cached)' : resumedFrom > 0 ? ` (resumed at byte ${resumedFrom}: ${came} bytes downloaded)` : ` (${came} bytes downloaded)`}`);
    }
  } finally {
    state.close();
  }
}
