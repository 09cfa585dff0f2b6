// Air-gapped bundles in tests and the bench: a site world whose Release lists artifacts (files put straight
// into the hub's content store, `<data>/blobs/sha256/<hex>`, as `outpost release import` writes it), the
// CLIs with a logged-in config, a read of an agent's whole state.db to compare before and after, and a
// bundle altered inside one member and signed again with the hub's own key (what only a hub could make).
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readManifest, requiredArtifacts, signatureText, signedMessage, SIGNATURE_BYTES, TAIL_BYTES } from '@outpost/proto';
import { cluster, datacenter, project, site } from './fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, type RunResult, type TestHub } from './processes.js';

export interface Artifact {
  name: string;
  type: string;
  digest: string;
  size: number;
}

/**
 * Writes one blob of `bytes` random bytes into the hub's content store for each artifact a Release with no
 * components needs (REQUIRED_ARTIFACTS: kubeadm, kubelet, kubectl and the CNI plugins), so the hub admits it.
 */
export function putBlobs(hubDataDir: string, bytes: number): Artifact[] {
  const dir = join(hubDataDir, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  return REQUIRED_ARTIFACTS.map(({ type, name }) => {
    const data = randomBytes(bytes);
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, hex), data);
    return { name, type, digest: `sha256:${hex}`, size: bytes };
  });
}

const REQUIRED_ARTIFACTS = requiredArtifacts({});
/** How many artifacts putBlobs writes. */
export const BLOB_COUNT = REQUIRED_ARTIFACTS.length;

export const release = (version: string, artifacts: readonly Artifact[]) => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Release', metadata: { name: version }, spec: { version, artifacts } });

/** Site `name` with a Datacenter and one kubeadm Cluster `c-NAME` of version 1.33.0, in project p. */
export function bundleSite(name: string) {
  return [site(name), datacenter(`dc-${name}`, { site: name }), cluster(`c-${name}`, 'p', `dc-${name}`)];
}

export const bundleProject = () => project('p');

/** The two CLIs, `outpost` logged in to `hub` through its own config file. */
export class Clis {
  readonly env: NodeJS.ProcessEnv;

  private constructor(readonly hub: TestHub) {
    this.env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
  }

  static async login(hub: TestHub): Promise<Clis> {
    const clis = new Clis(hub);
    const r = await clis.outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'));
    if (r.code !== 0) throw new Error(`login failed: ${r.stderr}`);
    return clis;
  }

  outpost(...args: string[]): Promise<RunResult> {
    return run(OUTPOST, args, { env: this.env, timeoutMs: 120_000 });
  }

  agent(...args: string[]): Promise<RunResult> {
    return run(OUTPOST_AGENT, args, { env: this.env, timeoutMs: 120_000 });
  }
}

/** Every row of every table of an agent's state.db, as one string: equal means the state is unchanged. */
export function agentDbDump(dataDir: string): string {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>;
    return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).raw().all()]));
  } finally {
    db.close();
  }
}

/** The agent's outbox: seq of each pending status. */
export function agentOutbox(dataDir: string): number[] {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT seq FROM status_outbox ORDER BY seq`).all() as Array<{ seq: number }>).map((r) => r.seq);
  } finally {
    db.close();
  }
}

/**
 * The bundle `bytes` with member `name`'s content changed by `edit` (which must keep its length), the
 * manifest's digest of it and the signature made again with the hub's bundle key from `hubDataDir`: a
 * bundle whose signature and digests all verify, so only the member's own checks can refuse it.
 */
export function resignedWith(bytes: Buffer, hubDataDir: string, name: string, edit: (content: Buffer) => void): Buffer {
  const out = Buffer.from(bytes);
  const manifestSize = parseInt(out.subarray(124, 136).toString('ascii').replace(/\0/g, '').trim(), 8);
  const manifest = readManifest(out.subarray(512, 512 + manifestSize).toString('utf8'));
  // Members follow the manifest in its order, each a 512-byte header and its content padded to 512.
  let at = 512 + Math.ceil(manifestSize / 512) * 512;
  for (const m of manifest.members) {
    if (m.name === name) {
      const content = out.subarray(at + 512, at + 512 + m.size);
      edit(content);
      const oldHex = m.digest.slice('sha256:'.length);
      const newHex = createHash('sha256').update(content).digest('hex');
      const where = out.subarray(512, 512 + manifestSize).indexOf(oldHex);
      if (where < 0) throw new Error(`the manifest does not list ${name}'s digest`);
      out.write(newHex, 512 + where, 'ascii');
      const signed = out.length - TAIL_BYTES;
      const digest = createHash('sha256').update(out.subarray(0, signed)).digest('hex');
      const key = createPrivateKey(readFileSync(join(hubDataDir, 'bundle.key'), 'utf8'));
      const text = signatureText(digest, sign(null, signedMessage(digest), key));
      if (Buffer.byteLength(text) !== SIGNATURE_BYTES) throw new Error('the signature is not of its fixed size');
      out.write(text, signed + 512, 'utf8');
      return out;
    }
    at += 512 + Math.ceil(m.size / 512) * 512;
  }
  throw new Error(`the bundle has no member ${name}`);
}
