// Gets the hub's CAs for the Clusters this agent holds: asks over the hub link (SecretsRequests decides
// what and when), keeps what arrives in the owner-only state file, and has the controller run that
// Cluster again, so a reconciler that found no keys gets them. Keys are kept only for a Cluster this agent
// holds under that uid, and only as the hub answered a ref this agent asked for. Logs name clusters and
// reasons, never key material.
import { BOOTSTRAP_TOKEN_RE, CA_CERT_HASH_RE, clusterKeysFromWire, type Cluster, type ClusterKeys, type JoinSecrets, type ObjectRef, type Secrets } from '@outpost/proto';
import type { BackoffOptions } from '../engine/backoff.js';
import { keyOf, type LocalState, type ObjectKey } from '../state/local-state.js';
import { SecretsRequests, type HeldCluster } from './secrets-requests.js';

export interface ClusterKeysFetcherOptions {
  state: Pick<LocalState, 'list'>;
  keys: { has(uid: string): boolean; wasMissed(uid: string): boolean; put(uid: string, cluster: ObjectKey, keys: ClusterKeys | { join: JoinSecrets }): void };
  /** Sends one SecretsRequest; false when there is no link to a hub that answers them. */
  request(refs: ObjectRef[]): boolean;
  /** A Cluster's keys arrived after a reconciler looked for them: run it again. */
  onKeys(key: ObjectKey): void;
  backoff?: BackoffOptions;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  now?: () => number;
}

export class ClusterKeysFetcher {
  private readonly requests: SecretsRequests;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: ClusterKeysFetcherOptions) {
    this.requests = new SecretsRequests(o.backoff);
    this.now = o.now ?? Date.now;
  }

  /** Asks for what is due now, and wakes up for the next backed-off Cluster. Cheap: call it after every change. */
  check(): void {
    if (this.stopped) return;
    const held = this.held();
    for (const refs of this.requests.due(held, (uid) => this.o.keys.has(uid), this.now())) {
      if (!this.o.request(refs)) {
        // No link (or a hub too old): nothing is in flight; the next connection asks.
        this.requests.disconnected();
        break;
      }
    }
    this.schedule();
  }

  /** The link is up (after Welcome): what was lost with the last one is asked again. */
  connected(): void {
    this.check();
  }

  disconnected(): void {
    this.requests.disconnected();
  }

  /** A Secrets answer from the hub. */
  received(secrets: Secrets): void {
    const held = new Map(this.held().map((c) => [c.ref.uid, c]));
    const now = this.now();
    for (const entry of secrets.clusters ?? []) {
      const uid = entry.ref?.uid ?? '';
      const cluster = held.get(uid);
      // Not (or no longer) held under that uid: whatever came is not kept.
      if (!cluster) continue;
      const name = `${cluster.ref.namespace}/${cluster.ref.name}`;
      const keys = entry.keys ? clusterKeysFromWire(entry.keys) : joinFromWire(entry.join);
      if (keys) {
        // Read before the put clears it: a reconciler that found none runs again, one that never looked need not.
        const awaited = this.o.keys.wasMissed(uid);
        this.o.keys.put(uid, { kind: 'Cluster', namespace: cluster.ref.namespace ?? '', name: cluster.ref.name ?? '' }, keys);
        this.requests.delivered(uid);
        this.o.log.info({ cluster: name, uid }, 'ca' in keys ? "received the cluster's CAs from the hub; kept in the agent's state file" : "received the join secrets of the cluster's static workers from the hub; kept in the agent's state file");
        if (awaited) this.o.onKeys({ kind: 'Cluster', namespace: cluster.ref.namespace ?? '', name: cluster.ref.name ?? '' });
        continue;
      }
      const reason = entry.keys || entry.join ? 'INCOMPLETE' : (entry.missing?.reason ?? 'UNKNOWN');
      const message = entry.keys || entry.join ? 'the hub sent keys with a part missing; none kept' : (entry.missing?.message ?? '');
      const retryInMs = this.requests.refused(uid, cluster.resourceVersion, now);
      this.o.log.warn({ cluster: name, uid, reason, message, retryInMs }, "the hub delivered no CAs for this cluster; asking again later, or at once when the Cluster changes");
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private held(): HeldCluster[] {
    return (this.o.state.list('Cluster') as Cluster[]).flatMap((c) => {
      const uid = c.metadata.uid;
      if (!uid) return [];
      const k = keyOf(c);
      return [{ ref: { kind: 'Cluster', namespace: k.namespace, name: k.name, uid }, resourceVersion: c.metadata.resourceVersion ?? '' }];
    });
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = this.requests.nextRetryAt();
    if (at === undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }
}

/** The join secrets of a Secrets entry, or undefined when absent or not of kubeadm's shape. */
function joinFromWire(w: { bootstrapToken?: string | null; caCertHash?: string | null } | null | undefined): { join: JoinSecrets } | undefined {
  if (!w?.bootstrapToken || !w.caCertHash || !BOOTSTRAP_TOKEN_RE.test(w.bootstrapToken) || !CA_CERT_HASH_RE.test(w.caCertHash)) return undefined;
  return { join: { bootstrapToken: w.bootstrapToken, caCertHash: w.caCertHash } };
}
