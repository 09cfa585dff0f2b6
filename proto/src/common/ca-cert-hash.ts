// The CA pin, as kubeadm's --discovery-token-ca-cert-hash: sha256 over the CA certificate's DER
// SubjectPublicKeyInfo. The hub prints it (`hub init`, `token create`) and the agent checks the CA it
// fetches against it, so both must compute it the same way: here, once.
import { createHash, X509Certificate } from 'node:crypto';

/** What a pin looks like: "sha256:" and 64 lower-case hex digits. */
export const CA_CERT_HASH_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * "sha256:<hex>" of the certificate's public key (not of the certificate: a CA re-signed with the same
 * key keeps its pin). Throws on a PEM that is not a certificate.
 */
export function caCertHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
