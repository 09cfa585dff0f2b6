// The secrets a kubeadm cluster's joins need (control-plane members need none beyond these: the agent
// writes the CAs to them itself, so kubeadm's certificate upload is not used), derived from the cluster's CA key (which the hub delivered
// to this agent alone) rather than made at random: after a kill -9 the agent computes the same ones again,
// so a resumed join needs nothing persisted, and nothing secret is written to the agent's journal. A
// new Cluster generation gets new ones; each is also bounded by its TTL on the cluster itself.
import { createHmac, createPrivateKey } from 'node:crypto';
import { caCertHash, type ClusterKeys } from '@outpost/proto';

export interface JoinSecrets {
  /** kubeadm bootstrap token "<6>.<16>" ([a-z0-9]), as `kubeadm token create` makes. */
  bootstrapToken: string;
  /** `--discovery-token-ca-cert-hash`, from the cluster CA: a joining host trusts only that CA. */
  caCertHash: string;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function tokenChars(bytes: Buffer, n: number): string {
  // 36 does not divide 256: reject bytes at or above 252 (7 × 36) so each character is uniform.
  let out = '';
  for (const b of bytes) {
    if (b >= 252) continue;
    out += TOKEN_ALPHABET[b % 36];
    if (out.length === n) return out;
  }
  throw new RangeError('not enough key material for a token');
}

/** The join secrets of one Cluster generation: `uid` and `generation` say which. */
export function joinSecrets(keys: ClusterKeys, uid: string, generation: number): JoinSecrets {
  // The private key's DER, not its PEM text: the same key written another way derives the same secrets.
  const secret = createPrivateKey(keys.ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const derive = (purpose: string): Buffer => createHmac('sha256', secret).update(`outpost.dev/kubeadm/${purpose}/${uid}/${generation}`).digest();
  const id = tokenChars(Buffer.concat([derive('token-id'), derive('token-id-2')]), 6);
  const tokenSecret = tokenChars(Buffer.concat([derive('token-secret'), derive('token-secret-2')]), 16);
  return { bootstrapToken: `${id}.${tokenSecret}`, caCertHash: caCertHash(keys.ca.certPem) };
}
