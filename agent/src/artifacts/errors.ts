// The artifact cache's errors: each names the artifact and says what to do next.

export class ArtifactDigestMismatch extends Error {
  override readonly name = 'ArtifactDigestMismatch';
  constructor(readonly digest: string, readonly actual: string, from: string) {
    super(`artifact ${digest} from ${from} hashes to ${actual}: the bytes are not the ones the Release names, so they were deleted and nothing will use them (the hub's copy may be damaged: re-import the release with \`outpost release import DIR\`)`);
  }
}

export class ArtifactFetchError extends Error {
  override readonly name = 'ArtifactFetchError';
  constructor(readonly digest: string, message: string, options?: { cause?: unknown }) {
    super(`artifact ${digest}: ${message}`, options);
  }
}

export class ArtifactTooLarge extends Error {
  override readonly name = 'ArtifactTooLarge';
  constructor(readonly digest: string, readonly size: number, readonly limit: number) {
    super(`artifact ${digest} is ${size} bytes, more than the whole cache may hold (${limit} bytes): raise --artifact-cache-size`);
  }
}

export class ArtifactSetTooLarge extends Error {
  override readonly name = 'ArtifactSetTooLarge';
  constructor(readonly count: number, readonly bytes: number, readonly limit: number) {
    super(`the ${count} artifacts to cache need ${bytes} bytes the cache does not hold yet, more than the whole cache may hold (${limit} bytes): raise --artifact-cache-size`);
  }
}
