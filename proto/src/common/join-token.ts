// kubeadm bootstrap tokens derived from a cluster's CA key, not made at random: whoever holds the CA key
// computes the same token again, so nothing secret has to be kept or handed between holders. The site
// agent derives its own kubeadm clusters' tokens this way (after a kill -9 it computes the same one); for a
// hosted Cluster's static workers the hub (the CA of record) and the seed agent (which serves the control
// plane and holds the CA) both derive it, and the hub hands the site agent only the token and the CA hash.
import { createHmac, createPrivateKey } from 'node:crypto';
import { caCertHash } from './ca-cert-hash.js';

export interface JoinSecrets {
  /** kubeadm bootstrap token "<6>.<16>" ([a-z0-9]), as `kubeadm token create` makes. */
  bootstrapToken: string;
  /** `--discovery-token-ca-cert-hash`, from the cluster CA: a joining host trusts only that CA. */
  caCertHash: string;
}

/** What a bootstrap token looks like (kubeadm's BootstrapTokenRegexp). */
export const BOOTSTRAP_TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

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

/** The token of `scope` (which cluster, and for what) under the CA key `caKeyPem`. */
export function deriveBootstrapToken(caKeyPem: string, scope: string): string {
  // The private key's DER, not its PEM text: the same key written another way derives the same token.
  const secret = createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'der' });
  const derive = (purpose: string): Buffer => createHmac('sha256', secret).update(`outpost.dev/kubeadm/${purpose}/${scope}`).digest();
  const id = tokenChars(Buffer.concat([derive('token-id'), derive('token-id-2')]), 6);
  const tokenSecret = tokenChars(Buffer.concat([derive('token-secret'), derive('token-secret-2')]), 16);
  return `${id}.${tokenSecret}`;
}

/**
 * The join secrets of a hosted Cluster's static workers. Bound to the Cluster's uid alone (not its
 * generation): the site agent keeps what the hub delivered once per uid, and a scaled worker pool must
 * still join with it. It is usable only while the seed agent keeps its Secret in the hosted cluster, and
 * only for what kubeadm's bootstrappers may do there (read cluster-info and the join ConfigMaps, ask for a
 * node client certificate).
 */
export function hostedJoinSecrets(ca: { certPem: string; keyPem: string }, clusterUid: string): JoinSecrets {
  return { bootstrapToken: deriveBootstrapToken(ca.keyPem, `hosted-workers/${clusterUid}`), caCertHash: caCertHash(ca.certPem) };
}
