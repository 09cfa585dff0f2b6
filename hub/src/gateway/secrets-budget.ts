// How many Clusters' CAs one connection is handed: an agent asks once per Cluster (and again after a
// reconnect or a missing answer, backed off), so a seed's restart asks for its few hundred at once and
// then hardly ever. A peer asking in a loop meets the budget: the refs beyond it are answered
// RATE_LIMITED at once (never queued here), and every ref past MAX_SECRETS_PER_REQUEST in one frame TOO_MANY.
import { MAX_SECRETS_PER_REQUEST, SecretsMissing, type ClusterSecret, type ObjectRef } from '@outpost/proto';
import { missing } from './cluster-secrets.js';
import { TokenBucket } from './token-bucket.js';

/** Clusters answered with keys or a lookup per connection: 512 at once, then 16 a second. */
export const SECRETS_BUDGET = { clusters: 512, clustersPerSecond: 16 };

export interface SecretsSplit {
  /** To be looked up. */
  asked: ObjectRef[];
  /** Answered here without a lookup, in order after the asked ones. */
  refused: ClusterSecret[];
}

export class SecretsBudget {
  private readonly bucket: TokenBucket;

  constructor(now: number, private readonly budget = SECRETS_BUDGET) {
    this.bucket = new TokenBucket(budget.clusters, budget.clustersPerSecond, now);
  }

  /** Takes what the budget allows of one request's refs; the rest are refused with their reason. */
  split(refs: readonly ObjectRef[], now: number): SecretsSplit {
    const asked: ObjectRef[] = [];
    const refused: ClusterSecret[] = [];
    refs.forEach((ref, i) => {
      if (i >= MAX_SECRETS_PER_REQUEST) {
        refused.push(missing(ref, SecretsMissing.tooMany, `a SecretsRequest carries at most ${MAX_SECRETS_PER_REQUEST} refs; ask for this one in another frame`));
      } else if (this.bucket.take(now)) {
        asked.push(ref);
      } else {
        refused.push(missing(ref, SecretsMissing.rateLimited, `this connection asked for more than ${this.budget.clustersPerSecond} clusters' CAs a second (bursts of ${this.budget.clusters}); ask again in ${Math.ceil(this.bucket.msUntil(now) / 1000)} s`));
      }
    });
    return { asked, refused };
  }
}
