// The hub's answer to an agent's SecretsRequest: the CAs of each asked-for Cluster that is in the asking
// agent's view, opened from the cluster_pki table, each delivery audited before the keys leave. Anything
// else (another view's Cluster, an unknown or stale uid, a Cluster that predates the hub keeping CAs) gets
// a `missing` entry and never keys. A site agent that serves only a hosted Cluster's static workers (the
// Cluster is in its view for them, store/views.ts) gets what `kubeadm join` needs and nothing more: the
// bootstrap token the seed agent also derives from the CA key, and the CA's hash; never the CAs themselves,
// so it can join nodes but not sign a certificate of that cluster. Only the hub's primary runs this: it alone holds secrets.key and
// writes the audit log (see gateway-processes.ts for why gateway processes ask it over IPC).
import { clusterKeysToWire, hostedJoinSecrets, SecretsMissing, type Cluster, type ClusterSecret, type ObjectKey, type ObjectRef, type SecretsMissingReason } from '@outpost/proto';
import type { ClusterPki } from '../pki/cluster-pki.js';
import type { Store } from '../store/store.js';
import { servesDatacenter } from '../store/views.js';

/** Where a gateway gets its answers: in process, or from the primary over IPC. */
export interface SecretsSource {
  /** One entry per ref, in order; `done` runs once (after the deliveries are audited). */
  clusterSecrets(agentId: string, view: string, refs: readonly ObjectRef[], done: (entries: ClusterSecret[]) => void): void;
}

/** The audit verb of one delivery of a Cluster's CAs to an agent. */
export const DELIVER_KEYS_VERB = 'deliver-cluster-keys';
/** The audit verb of one delivery of a hosted Cluster's join secrets to its workers' site agent. */
export const DELIVER_JOIN_VERB = 'deliver-cluster-join';

export function missing(ref: ObjectRef, reason: SecretsMissingReason, message: string): ClusterSecret {
  return { ref, missing: { reason, message } };
}

export interface SecretsLog {
  warn(o: object, m: string): void;
}

/** Answers `refs` for `agentId` serving `view`. */
export function answerSecrets(store: Store, pki: ClusterPki, log: SecretsLog, agentId: string, view: string, refs: readonly ObjectRef[]): ClusterSecret[] {
  return refs.map((asked) => {
    const ref: ObjectRef = { kind: 'Cluster', namespace: asked.namespace ?? '', name: asked.name ?? '', uid: asked.uid ?? '' };
    const key: ObjectKey = { kind: 'Cluster', namespace: ref.namespace!, name: ref.name! };
    const notInView = (): ClusterSecret => missing(ref, SecretsMissing.notInView, `no Cluster ${ref.namespace}/${ref.name} with uid ${ref.uid} is in this agent's view (${view})`);
    // The kind is the hub's, not the agent's: an agent cannot ask for another kind's secrets by naming it.
    if (asked.kind !== 'Cluster' || !ref.uid || !ref.name || !store.inView(view, key)) return notInView();
    const cluster = store.get<Cluster>('Cluster', key.namespace, key.name);
    if (cluster?.metadata.uid !== ref.uid) return notInView();
    const row = store.clusterPki.get(key.namespace, key.name);
    if (!row || row.uid !== ref.uid) {
      return missing(ref, SecretsMissing.noCaOfRecord, `Cluster ${ref.namespace}/${ref.name} was made before the hub kept cluster CAs: the hub holds none to deliver`);
    }
    const workersOnly = !servesDatacenter(cluster, view, { datacenter: (name) => store.get('Datacenter', '', name) });
    // In the view but not served by it: only a hosted Cluster's workers' site is (store/views.ts).
    if (workersOnly && cluster.spec?.controlPlane?.mode !== 'hosted') return notInView();
    let entry: ClusterSecret;
    try {
      if (workersOnly) {
        const join = hostedJoinSecrets(pki.keys(row).ca, ref.uid!);
        entry = { ref, join: { bootstrapToken: join.bootstrapToken, caCertHash: join.caCertHash } };
        store.recordAudit({ actor: `agent:${agentId}` }, DELIVER_JOIN_VERB, key);
        return entry;
      }
      entry = { ref, keys: clusterKeysToWire(pki.keys(row)) };
    } catch (err) {
      log.warn({ agent: agentId, cluster: `${ref.namespace}/${ref.name}`, err: (err as Error).message }, "a Cluster's sealed CAs did not open; none delivered");
      return missing(ref, SecretsMissing.internal, 'the hub could not open this Cluster\'s CAs; its log says why');
    }
    // Recorded before the keys leave: keys whose delivery cannot be audited are not delivered.
    store.recordAudit({ actor: `agent:${agentId}` }, DELIVER_KEYS_VERB, key);
    return entry;
  });
}

/** The in-process source (one hub process, or the primary answering its gateway processes). */
export function storeSecrets(store: Store, pki: ClusterPki, log: SecretsLog): SecretsSource {
  return {
    clusterSecrets: (agentId, view, refs, done) => {
      let entries: ClusterSecret[];
      try {
        // One transaction: every delivery of the answer is audited, or none is and nothing is handed out.
        entries = store.transaction(() => answerSecrets(store, pki, log, agentId, view, refs));
      } catch (err) {
        // The audit write failed (disk full, say): nothing is handed out.
        log.warn({ agent: agentId, err: (err as Error).message }, 'could not answer a SecretsRequest; no keys delivered');
        entries = refs.map((r) => missing(r, SecretsMissing.internal, 'the hub could not record the delivery; ask again later'));
      }
      done(entries);
    },
  };
}
