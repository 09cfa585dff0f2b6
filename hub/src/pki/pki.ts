// The hub's CA and serving certificate (ECDSA P-256). The pin agents check (caCertHash) is in proto,
// shared with the agent.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type Key = webcrypto.CryptoKey;
type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

import type { KeyPairPem } from '@outpost/proto';

export type { KeyPairPem } from '@outpost/proto';

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
    notBefore: new Date(Date.now() - 60_000),
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

type LeafSubject = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[0]['subject']>;

/** A leaf key pair for `subject`, valid from a minute ago until `notAfter`, signed by `ca`. */
async function signLeaf(ca: KeyPairPem, subject: LeafSubject, notAfter: Date, extensions: (caCert: x509.X509Certificate) => x509.Extension[]): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    signingKey: caKey as never,
    publicKey: keys.publicKey as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...extensions(caCert),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: pem(cert.toString('pem')), keyPem: await keyPem(keys.privateKey) };
}

/** A serving certificate for `sans` (DNS names or IP addresses), signed by `ca`. */
export function createServingCert(ca: KeyPairPem, sans: readonly string[], validDays = 825): Promise<KeyPairPem> {
  return signLeaf(ca, `CN=${sans[0] ?? 'outpost-hub'}`, new Date(Date.now() + validDays * DAY_MS), () => [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s }))),
  ]);
}

/**
 * A client certificate (clientAuth) for Kubernetes' x509 authentication, signed by `ca`: `commonName` is
 * the user, each of `organizations` a group. Given as attributes, not a
 * string, so a comma or '=' in a name stays part of it.
 */
export function createClientCert(ca: KeyPairPem, subject: { commonName: string; organizations: readonly string[] }, notAfter: Date): Promise<KeyPairPem> {
  const name = [...subject.organizations.map((o) => ({ O: [o] })), { CN: [subject.commonName] }];
  return signLeaf(ca, name, notAfter, () => [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]);
}
