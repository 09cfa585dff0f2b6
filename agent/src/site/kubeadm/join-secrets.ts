// The secrets a kubeadm cluster's joins need (control-plane members need none beyond these: the agent
// writes the CAs to them itself, so kubeadm's certificate upload is not used), derived from the cluster's CA key (which the hub delivered
// to this agent alone) rather than made at random: after a kill -9 the agent computes the same ones again,
// so a resumed join needs nothing persisted, and nothing secret is written to the agent's journal. A
// new Cluster generation gets new ones; each is also bounded by its TTL on the cluster itself.
import { caCertHash, deriveBootstrapToken, type ClusterKeys, type JoinSecrets } from '@outpost/proto';

export type { JoinSecrets } from '@outpost/proto';

/** The join secrets of one Cluster generation: `uid` and `generation` say which. */
export function joinSecrets(keys: ClusterKeys, uid: string, generation: number): JoinSecrets {
  return { bootstrapToken: deriveBootstrapToken(keys.ca.keyPem, `${uid}/${generation}`), caCertHash: caCertHash(keys.ca.certPem) };
}
