// X.509 for hub and agent alike (ECDSA P-256, @peculiar/x509): the hub makes CAs and signs admin client
// certificates, a seed agent signs a hosted control plane's leaf certificates with the CAs the hub
// delivered. One code, so both ends make certificates the same way.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import type { KeyPairPem } from './common/cluster-keys.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type Key = webcrypto.CryptoKey;
type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates are valid from a minute ago, so a peer whose clock is a little behind takes them. */
const BACKDATE_MS = 60_000;

/** PEM with a final newline, so PEMs can be concatenated into a chain. */
function pem(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

async function keyPem(key: Key): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return pem(x509.PemConverter.encode(der, 'PRIVATE KEY'));
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

export async function createCa(commonName: string, validDays = 3650): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - BACKDATE_MS),
    notAfter: new Date(Date.now() + validDays * DAY_MS),
    keys: keys as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certPem: pem(cert.toString('pem')), keyPem: await keyPem(keys.privateKey) };
}

/** What a leaf certificate is for: a TLS server, a TLS client (Kubernetes' x509 authentication), or both (etcd's peers). */
export type LeafUsage = 'server' | 'client';

export interface LeafRequest {
  /** For a client certificate, the Kubernetes user. */
  commonName: string;
  /** For a client certificate, the Kubernetes groups. */
  organizations?: readonly string[];
  /** DNS names or IP addresses a server certificate answers for. */
  sans?: readonly string[];
  usages: readonly LeafUsage[];
  notAfter: Date;
}

/**
 * A leaf key pair signed by `ca`, valid from a minute ago until `notAfter`. The subject is given as
 * attributes, not a string, so a comma or '=' in a name stays part of it.
 */
export async function signLeaf(ca: KeyPairPem, req: LeafRequest): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const usages = req.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
  const sans = req.sans ?? [];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [...(req.organizations ?? []).map((o) => ({ O: [o] })), { CN: [req.commonName] }],
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - BACKDATE_MS),
    notAfter: req.notAfter,
    signingKey: caKey as never,
    publicKey: keys.publicKey as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s })))] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: pem(cert.toString('pem')), keyPem: await keyPem(keys.privateKey) };
}

/** A serving certificate for `sans` (DNS names or IP addresses), signed by `ca`. */
export function createServingCert(ca: KeyPairPem, sans: readonly string[], validDays = 825): Promise<KeyPairPem> {
  return signLeaf(ca, { commonName: sans[0] ?? 'outpost-hub', sans, usages: ['server'], notAfter: new Date(Date.now() + validDays * DAY_MS) });
}

/** A client certificate for Kubernetes' x509 authentication: `commonName` is the user, each of `organizations` a group. */
export function createClientCert(ca: KeyPairPem, subject: { commonName: string; organizations: readonly string[] }, notAfter: Date): Promise<KeyPairPem> {
  return signLeaf(ca, { ...subject, usages: ['client'], notAfter });
}

/** What a certificate says of itself, for deciding whether it is still the one wanted. */
export interface CertificateFacts {
  notBefore: Date;
  notAfter: Date;
  /** DNS names and IP addresses, in the certificate's order. */
  sans: string[];
  /** Whether `ca` signed it. */
  signedBy(ca: KeyPairPem): Promise<boolean>;
}

export function readCertificate(certPem: string): CertificateFacts {
  const cert = new x509.X509Certificate(certPem);
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = (ext?.names.items ?? []).filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value);
  return {
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sans,
    signedBy: async (ca) => {
      const caCert = new x509.X509Certificate(ca.certPem);
      return cert.issuer === caCert.subject && (await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }));
    },
  };
}
