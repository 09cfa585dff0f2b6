// The cluster CAs a bundle carries (cluster-keys.json), opened with this agent's encryption key before
// anything of the bundle is applied: one that does not open refuses the whole import, naming the
// Cluster, so the agent's state stays as it was. The blobs are under the hub's signature, so one that
// does not open was sealed to a key this agent no longer holds (its encryption.key replaced or restored
// from elsewhere), or to another agent's: the cure is the same either way, a status bundle that carries
// this agent's key to the hub, and a new bundle.
import { openClusterKeys, SealedKeysError, type BundleManifest, type ClusterKeys, type ClusterKeysMember, type ObjectKey } from '@outpost/proto';
import { EncryptionKeyError, loadEncryptionKey } from '../encryption-key.js';
import { BundleRefused } from './errors.js';

export interface OpenedClusterKeys {
  uid: string;
  cluster: ObjectKey;
  keys: ClusterKeys;
}

const cure = (dataDir: string): string =>
  `write a status bundle here (outpost-agent bundle export-status --data ${dataDir} -o status.json: it carries this agent's key), record it at the hub (outpost bundle import-status status.json), and import the next bundle the hub makes`;

/** Every Cluster's keys `member` carries, opened for `manifest`'s agent and bundle; BundleRefused('SEALED_KEYS') when any does not open. */
export function openBundleKeys(dataDir: string, manifest: BundleManifest, member: ClusterKeysMember | undefined): OpenedClusterKeys[] {
  if (!member?.clusters.length) return [];
  const names = member.clusters.map((c) => `${c.namespace}/${c.name}`).join(', ');
  let key;
  try {
    key = loadEncryptionKey(dataDir);
  } catch (err) {
    if (!(err instanceof EncryptionKeyError)) throw err;
    throw new BundleRefused('SEALED_KEYS', `the bundle carries the CAs of Cluster ${names}, sealed to encryption key ${member.recipient}, but this agent cannot read its own: ${err.message}; nothing was applied. Then ${cure(dataDir)}`, { cause: err });
  }
  return member.clusters.map((sealed) => {
    const name = `${sealed.namespace}/${sealed.name}`;
    try {
      return { uid: sealed.uid, cluster: { kind: 'Cluster', namespace: sealed.namespace, name: sealed.name }, keys: openClusterKeys(key.privateKey, { agentId: manifest.agentId, clusterUid: sealed.uid, bundleId: manifest.id }, sealed) };
    } catch (err) {
      if (!(err instanceof SealedKeysError)) throw err;
      const why = member.recipient === key.fingerprint
        ? `${err.message}`
        : `they are sealed to encryption key ${member.recipient}, and this agent's is ${key.fingerprint}: the hub holds a key this agent no longer has, or another agent's`;
      throw new BundleRefused('SEALED_KEYS', `the CAs the bundle carries for Cluster ${name} (uid ${sealed.uid}) do not open with this agent's encryption key (${why}); nothing was applied. To get them, ${cure(dataDir)}`, { cause: err });
    }
  });
}
