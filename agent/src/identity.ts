// Joining: fetch the hub's CA, check it against the pinned hash (as kubeadm's discovery does), swap the
// bootstrap token for the agent's own credential, and keep both in DIR/identity.json; make the agent's
// SSH key (DIR/ssh) for the site's hosts to authorize, and its encryption key (encryption-key.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join as joinPath } from 'node:path';
import { CA_CERT_HASH_RE, CA_PATH, caCertHash, JOIN_PATH, readStatus } from '@outpost/proto';
import { ensureEncryptionKey } from './encryption-key.js';
import { ensureAgentSshKey } from './site/ssh/agent-ssh-key.js';

export interface Identity {
  hub: string;
  agentId: string;
  credential: string;
  caCertPem: string;
  view: string;
  /**
   * The hub's bundle signing key (ed25519, SPKI PEM), pinned at join, from the Welcome of the trusted link
   * for an agent that joined before the hub had one, or from an enrolling bundle whose hub CA matched --ca-hash.
   */
  bundleKey?: string;
}

export class JoinFailed extends Error {
  override readonly name = 'JoinFailed';
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const identityPath = (dir: string): string => joinPath(dir, 'identity.json');
export const statePath = (dir: string): string => joinPath(dir, 'state.db');

/**
 * One HTTPS request on node's global (keep-alive) agent. A request sent on a kept-alive connection that
 * the hub had just closed as idle (its keepAliveTimeout and the agent's are both 5 s, so the close and
 * the reuse can cross) dies with ECONNRESET before the hub read it: that one is sent again at once, on a
 * fresh connection. It reached nobody, so this is safe even for the join, which uses its token up.
 */
function httpsCall(url: URL, opts: { method: string; ca?: string | undefined; body?: string; localAddress?: string | undefined }, retried = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        // Before the CA is verified nothing is trusted; the fetched CA is checked against the pin below.
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        headers: opts.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) } : {},
        timeout: 15_000,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) return void httpsCall(url, opts, true).then(resolve, reject);
      reject(new JoinFailed('UNREACHABLE', `cannot reach the hub at ${url.origin}: ${err.message}`, { cause: err }));
    });
    req.end(opts.body);
  });
}

/** Fetches the hub's CA and checks it against the pin; nothing is sent to an unverified hub. */
export async function fetchVerifiedCa(hubUrl: string, caHash: string): Promise<{ hub: URL; caCertPem: string }> {
  if (!CA_CERT_HASH_RE.test(caHash)) throw new JoinFailed('BAD_HASH', `--ca-hash ${caHash} is not sha256:<64 hex digits>; copy it from \`outpost token create\` or \`outpost hub init\``);
  let hub: URL;
  try {
    hub = new URL(hubUrl);
  } catch {
    throw new JoinFailed('BAD_URL', `--hub ${hubUrl} is not a URL; write it as https://HOST:PORT`);
  }
  if (hub.protocol !== 'https:') throw new JoinFailed('BAD_URL', `--hub must be https://, not ${hub.protocol}`);
  const ca = await httpsCall(new URL(CA_PATH, hub), { method: 'GET' });
  if (ca.status !== 200) throw new JoinFailed('NO_CA', `the hub at ${hub.origin} did not serve its CA (HTTP ${ca.status}); is this an Outpost hub?`);
  let actual: string;
  try {
    actual = caCertHash(ca.text);
  } catch (cause) {
    throw new JoinFailed('NO_CA', `the hub at ${hub.origin} served something that is not a certificate`, { cause });
  }
  if (actual !== caHash) {
    throw new JoinFailed('CA_MISMATCH', `the hub's CA hash is ${actual}, not the ${caHash} you pinned: you may be talking to another server. Check --hub and --ca-hash; nothing was sent`);
  }
  return { hub, caCertPem: ca.text };
}

/** Swaps a bootstrap token for this agent's credential, over TLS that trusts only the verified CA. */
export async function redeemToken(hub: URL, caCertPem: string, token: string, version: string, localAddress?: string): Promise<Identity> {
  const res = await httpsCall(new URL(JOIN_PATH, hub), { method: 'POST', ca: caCertPem, body: JSON.stringify({ token, version }), localAddress });
  if (res.status !== 200) {
    const refusal = readStatus(res.text);
    throw new JoinFailed(refusal?.details?.code ?? refusal?.reason ?? `HTTP_${res.status}`, refusal?.message ?? `join failed with HTTP ${res.status}`);
  }
  let body: { agentId?: string; credential?: string; view?: string; bundleKey?: string } = {};
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    // fall through with an empty body: refused below
  }
  if (!body.agentId || !body.credential) throw new JoinFailed(`HTTP_${res.status}`, `the hub answered the join without an agent credential: ${res.text.slice(0, 200)}`);
  return { hub: hub.origin, agentId: body.agentId, credential: body.credential, caCertPem, view: body.view ?? '', ...(body.bundleKey ? { bundleKey: body.bundleKey } : {}) };
}

export async function join(opts: { hub: string; token: string; caHash: string; dataDir: string; version: string }): Promise<Identity> {
  if (existsSync(identityPath(opts.dataDir))) throw new JoinFailed('ALREADY_JOINED', `${opts.dataDir} already holds a joined agent (${identityPath(opts.dataDir)}); use another --data directory, or remove it to join afresh`);
  const { hub, caCertPem } = await fetchVerifiedCa(opts.hub, opts.caHash);
  const identity = await redeemToken(hub, caCertPem, opts.token, opts.version);
  saveIdentity(opts.dataDir, identity);
  ensureAgentSshKey(opts.dataDir, identity.agentId);
  ensureEncryptionKey(opts.dataDir);
  return identity;
}

/** Writes DIR/identity.json whole or not at all (a temporary file renamed over it), the agent user's alone. */
export function saveIdentity(dataDir: string, identity: Identity): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${identityPath(dataDir)}.tmp`;
  writeFileSync(temp, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, identityPath(dataDir));
}

export function loadIdentity(dataDir: string): Identity {
  const path = identityPath(dataDir);
  if (!existsSync(path)) throw new JoinFailed('NOT_JOINED', `${dataDir} holds no agent identity; run \`outpost-agent join --hub URL --token TOKEN --ca-hash sha256:... --data ${dataDir}\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as Identity;
}
