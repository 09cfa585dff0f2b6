// Certificates for a test cluster, made with openssl (ECDSA P-256): one CA, and leaf certificates with
// the subject, SANs and key usage each component needs.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface LeafSpec {
  name: string;
  cn: string;
  org?: string;
  /** DNS names and IPs. */
  sans?: string[];
  usage: 'server' | 'client' | 'both';
}

const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function makeCa(dir: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${cn}`, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  return { cert, key };
}

export function makeLeaf(dir: string, ca: { cert: string; key: string }, spec: LeafSpec): { cert: string; key: string } {
  const key = join(dir, `${spec.name}.key`);
  const csr = join(dir, `${spec.name}.csr`);
  const cert = join(dir, `${spec.name}.crt`);
  const ext = join(dir, `${spec.name}.ext`);
  const eku = spec.usage === 'server' ? 'serverAuth' : spec.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth';
  const sans = (spec.sans ?? []).map((s) => (/^[\d.]+$|:/.test(s) ? `IP:${s}` : `DNS:${s}`));
  writeFileSync(ext, [`keyUsage=critical,digitalSignature,keyEncipherment`, `extendedKeyUsage=${eku}`, 'basicConstraints=CA:FALSE', ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : [])].join('\n'));
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${spec.cn}${spec.org ? `/O=${spec.org}` : ''}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext]);
  return { cert, key };
}

/** A service-account signing key pair. */
export function makeKeyPair(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  openssl(['pkey', '-in', key, '-pubout', '-out', pub]);
  return { key, pub };
}

export function kubeconfig(server: string, caCert: string, client: { cert: string; key: string }, user: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'seed', cluster: { server, 'certificate-authority': caCert } }],
    users: [{ name: user, user: { 'client-certificate': client.cert, 'client-key': client.key } }],
    contexts: [{ name: `${user}@seed`, context: { cluster: 'seed', user } }],
    'current-context': `${user}@seed`,
  });
}
