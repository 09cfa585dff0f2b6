// Why a bundle was refused. Every refusal leaves the agent's state as it was; the message names what is
// wrong and what to do next.
export type BundleRefusalCode =
  | 'TAMPERED'
  | 'OLDER'
  | 'GAP'
  | 'FOREIGN'
  | 'MISSING_PART'
  | 'PART_ORDER'
  | 'TRUNCATED'
  | 'UNKNOWN_VERSION'
  | 'NOT_PINNED'
  | 'CA_MISMATCH'
  | 'NOT_ENROLLED'
  | 'DISK'
  /** The bundle's artifacts do not fit under the artifact cache's size limit. */
  | 'CACHE_FULL'
  /** A Cluster's sealed CAs do not open with this agent's encryption key. */
  | 'SEALED_KEYS';

export class BundleRefused extends Error {
  override readonly name = 'BundleRefused';
  constructor(
    readonly code: BundleRefusalCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
