// The hub's data directory: what `outpost hub init` writes and `outpost hub serve` reads.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caCertHash, type Token } from '@outpost/proto';
import { hashSecret, randomToken } from './auth/secrets.js';
import { BUNDLE_KEY_FILE, ensureBundleKey } from './bundles/signing-key.js';
import { createCa, createServingCert } from './pki/pki.js';
import { Store } from './store/store.js';

export const dataPaths = (dir: string) => ({
  caCert: join(dir, 'ca.crt'),
  caKey: join(dir, 'ca.key'),
  hubCert: join(dir, 'hub.crt'),
  hubKey: join(dir, 'hub.key'),
  secretsKey: join(dir, 'secrets.key'),
  adminToken: join(dir, 'admin.token'),
  db: join(dir, 'hub.db'),
  ticketKeys: join(dir, 'ticket.keys'),
  /** The artifact content store (artifacts/blob-store.ts). */
  blobs: join(dir, 'blobs'),
  bundleKey: join(dir, BUNDLE_KEY_FILE),
});

/** Ticket keys older than this are replaced when the hub starts (their tickets then get a full handshake). */
const TICKET_KEYS_MAX_AGE_MS = 24 * 3_600_000;

/**
 * The TLS session-ticket keys, made or renewed by the hub at start. Kept in the data directory so a
 * restarted hub, and every gateway process, resumes the sessions agents hold: a reconnect storm then
 * skips certificate signing and checking on both sides.
 */
export function ensureTicketKeys(dir: string, now = Date.now()): void {
  const path = dataPaths(dir).ticketKeys;
  if (existsSync(path) && now - statSync(path).mtimeMs < TICKET_KEYS_MAX_AGE_MS) return;
  writeFileSync(path, randomBytes(48), { mode: 0o600 });
}

/** The files only the hub user may read: private keys, the sealing key, the admin token. */
const SECRET_FILES = ['caKey', 'hubKey', 'secretsKey', 'adminToken', 'ticketKeys', 'bundleKey'] as const;

/**
 * The data directory is the hub user's alone (0700) and so is every secret in it (0600). Run at init
 * and at every start: a directory that existed before `hub init` (mkdir keeps its mode), a file
 * rewritten in place (a write keeps the old mode) or one an operator copied in keeps no wider mode.
 * hub.db and its WAL are made and fixed where they are opened (store/db.ts).
 */
export function secureDataDir(dir: string): void {
  chmodSync(dir, 0o700);
  const p = dataPaths(dir);
  for (const name of SECRET_FILES) if (existsSync(p[name])) chmodSync(p[name], 0o600);
}

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface InitResult {
  caHash: string;
  adminTokenPath: string;
  caCertPath: string;
}

export async function initDataDir(dir: string, sans: readonly string[]): Promise<InitResult> {
  const p = dataPaths(dir);
  for (const f of [p.caCert, p.db, p.secretsKey]) {
    if (existsSync(f)) throw new DataDirError(`${dir} is already initialised (${f} exists); refusing to overwrite a hub's keys. Use another --data directory, or remove this one if you mean to start over.`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  secureDataDir(dir);
  const ca = await createCa('outpost-hub-ca');
  const serving = await createServingCert(ca, sans);
  writeFileSync(p.caCert, ca.certPem, { mode: 0o644 });
  writeFileSync(p.caKey, ca.keyPem, { mode: 0o600 });
  // The chain lets an agent that trusts only the CA verify the serving certificate.
  writeFileSync(p.hubCert, serving.certPem + ca.certPem, { mode: 0o644 });
  writeFileSync(p.hubKey, serving.keyPem, { mode: 0o600 });
  // For sealing secrets at rest (kubeconfigs, SSH keys) as later features store them.
  writeFileSync(p.secretsKey, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  // Signs air-gapped sync bundles (bundles/signing-key.ts).
  ensureBundleKey(p.bundleKey);

  const store = new Store(p.db);
  try {
    const id = randomToken(6);
    const secret = randomToken(32);
    const token: Token = {
      apiVersion: 'outpost.dev/v1alpha1',
      kind: 'Token',
      metadata: { name: id },
      spec: { type: 'api', role: 'admin', description: 'first admin token, made by outpost hub init' },
    };
    store.transaction(() => {
      store.create(token, { actor: 'outpost hub init' });
      store.putCredential(`token/${id}`, 'api', hashSecret(secret));
    });
    writeFileSync(p.adminToken, `${id}.${secret}\n`, { mode: 0o600 });
  } finally {
    store.close();
  }
  secureDataDir(dir);
  return { caHash: caCertHash(ca.certPem), adminTokenPath: p.adminToken, caCertPath: p.caCert };
}

export interface ServingMaterial {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** 48 bytes for tls.createServer's ticketKeys, when the hub has made them. */
  ticketKeys?: Buffer;
}

export function loadServingMaterial(dir: string): ServingMaterial {
  const p = dataPaths(dir);
  for (const f of [p.caCert, p.hubCert, p.hubKey]) {
    if (!existsSync(f)) throw new DataDirError(`${f} is missing: is ${dir} a hub data directory? Make one with \`outpost hub init --data ${dir}\``);
  }
  return {
    caCertPem: readFileSync(p.caCert, 'utf8'),
    certPem: readFileSync(p.hubCert, 'utf8'),
    keyPem: readFileSync(p.hubKey, 'utf8'),
    ...(existsSync(p.ticketKeys) ? { ticketKeys: readFileSync(p.ticketKeys) } : {}),
  };
}

/**
 * What the hub offers: TLS 1.2 and 1.3 only, and only AEAD suites with forward secrecy. TLS 1.3's suites
 * are all AEAD; on 1.2, OpenSSL's default list also offers CBC suites with SHA-1 MACs (Lucky13 and the
 * padding oracles), which no client of the hub needs. The serving key is ECDSA P-256, so the 1.2 suites
 * are the ECDHE-ECDSA ones.
 */
export const TLS_MIN_VERSION = 'TLSv1.2';
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
].join(':');

/**
 * The HTTPS server's TLS options: the serving certificate, the protocols and suites above, and the shared
 * ticket keys when there are some. And a session id context of the hub's own: OpenSSL resumes a session
 * only in the context that issued it, and Node's default context is a hash of the process's argv, so a
 * hub restarted with one flag changed, or upgraded to a binary at another path, refused every ticket its
 * fleet held and the whole fleet came back with full handshakes. The hub's CA names it instead.
 */
export function serverTlsOptions(m: ServingMaterial): { key: string; cert: string; minVersion: typeof TLS_MIN_VERSION; ciphers: string; honorCipherOrder: true; sessionIdContext: string; ticketKeys?: Buffer } {
  // At most 32 bytes (SSL_MAX_SID_CTX_LENGTH).
  const sessionIdContext = createHash('sha256').update(m.caCertPem).digest('hex').slice(0, 32);
  return { key: m.keyPem, cert: m.certPem, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true, sessionIdContext, ...(m.ticketKeys ? { ticketKeys: m.ticketKeys } : {}) };
}
