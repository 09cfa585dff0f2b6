// `outpost bundle create` and `outpost bundle import-status`: air-gapped sync bundles. The hub writes
// the bundle (bundles/bundle-writer.ts); this streams it into FILE, or into FILE.part-0001-of-000N when
// it is split, each written under a temporary name and renamed once whole, so a failed create leaves no
// file that looks like a bundle.
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { request } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { caCertHash, MANIFEST_MEMBER, partFileName, partsOf, readManifest, readStatus, type BundleManifest } from '@outpost/proto';
import type { BundleClusterKeys } from '../bundles/bundle-writer.js';
import type { StatusImportResult } from '../bundles/status-import.js';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import tar from 'tar-stream';
import { ApiClient } from '../client/api-client.js';
import { API_PREFIX } from '../api/resource-path.js';
import { readConfig, type CliConfig } from './config.js';
import { UsageError } from './usage.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
/** The smallest part: anything smaller only makes many files. */
const MIN_PART_BYTES = 1024;

/** "700M", "4G", "1048576" -> bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`--max-part-size ${value} is not a size; write it as 700M, 4G or a number of bytes`);
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (bytes < MIN_PART_BYTES) throw new UsageError(`--max-part-size ${value} is below ${MIN_PART_BYTES} bytes; give a larger size, such as 700M`);
  return bytes;
}

/** FILE itself, or its first part when it was split. */
export function firstPartOf(file: string): string {
  if (existsSync(file)) return file;
  const dir = dirname(file);
  const first = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`${basename(file)}.part-0001-of-`)) : undefined;
  if (!first) throw new UsageError(`${file} does not exist (nor its first part ${basename(file)}.part-0001-of-NNNN); give an earlier bundle file or a revision number`);
  return join(dir, first);
}

/** The manifest of an earlier bundle: its first member, read without the rest. */
export async function readBundleManifest(file: string): Promise<BundleManifest> {
  const extract = tar.extract();
  const source = createReadStream(firstPartOf(file));
  return new Promise<BundleManifest>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      if (header.name !== MANIFEST_MEMBER) {
        reject(new UsageError(`${file} does not begin with a bundle manifest: is it an Outpost bundle?`));
        source.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        try {
          resolve(readManifest(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(new UsageError(`${file}: ${(err as Error).message}`));
        }
        source.destroy();
        next();
      });
    });
    extract.on('error', (err) => reject(new UsageError(`${file} is not a bundle (${err.message})`)));
    source.on('error', (err) => reject(err));
    source.pipe(extract);
  });
}

interface CreateFlags {
  site: string;
  output: string;
  since?: string;
  maxPartSize?: string;
  enroll?: boolean;
}

/** Writes the stream into its parts as it arrives, each under a temporary name until the whole bundle is in. */
class PartWriter {
  private readonly parts;
  private fd: number | undefined;
  private part = 0;
  private written = 0;
  private readonly temps: string[] = [];
  readonly names: string[];

  constructor(private readonly file: string, total: number, maxPartBytes: number) {
    this.parts = partsOf(total, maxPartBytes);
    this.names = this.parts.map((p) => partFileName(file, p.index, this.parts.length));
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const p = this.parts[this.part];
      if (!p) throw new Error(`the hub sent more than the ${this.parts.at(-1)!.offset + this.parts.at(-1)!.size} bytes it announced`);
      if (this.fd === undefined) {
        const temp = `${this.names[this.part]}.partial`;
        this.temps.push(temp);
        this.fd = openSync(temp, 'w', 0o600);
      }
      const n = Math.min(chunk.length - at, p.offset + p.size - this.written);
      writeSync(this.fd, chunk, at, n);
      at += n;
      this.written += n;
      if (this.written === p.offset + p.size) {
        closeSync(this.fd);
        this.fd = undefined;
        this.part++;
      }
    }
  }

  commit(): void {
    if (this.part !== this.parts.length) throw new Error(`the hub's answer ended after ${this.written} bytes; the bundle is incomplete and was not written. Run the command again`);
    this.temps.forEach((t, i) => renameSync(t, this.names[i]!));
  }

  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    for (const t of this.temps) rmSync(t, { force: true });
  }
}

function post(ctx: CliConfig, path: string, body: unknown, onResponse: (status: number, headers: Record<string, string | string[] | undefined>, res: NodeJS.ReadableStream) => Promise<void>): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise<void>((resolve, reject) => {
    const req = request(new URL(path, ctx.hub), {
      method: 'POST',
      ca: ctx.caCert,
      headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json', 'content-length': payload.length, 'user-agent': 'outpost' },
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(readStatus(Buffer.concat(chunks).toString('utf8'))?.message ?? `the hub answered ${status}`)));
        return;
      }
      onResponse(status, res.headers, res).then(resolve, reject);
    });
    req.on('error', (err) => reject(new Error(`cannot reach the hub at ${ctx.hub}: ${err.message}`, { cause: err })));
    req.end(payload);
  });
}

async function create(ctx: CliConfig, o: CreateFlags): Promise<void> {
  const maxPartBytes = o.maxPartSize ? parseSize(o.maxPartSize) : 0;
  let since = 0;
  let carried: string[] | undefined;
  if (o.since !== undefined) {
    if (/^\d+$/.test(o.since)) since = Number(o.since);
    else {
      const earlier = await readBundleManifest(o.since);
      if (earlier.site !== o.site) throw new UsageError(`--since ${o.since} is a bundle for site ${earlier.site}, not ${o.site}`);
      since = earlier.targetRevision;
      carried = earlier.blobs.map((b) => b.digest);
    }
  }
  const path = `${API_PREFIX}/sites/${encodeURIComponent(o.site)}/bundle`;
  await post(ctx, path, { since, maxPartBytes, enroll: o.enroll === true, hub: ctx.hub, ...(carried ? { carried } : {}) }, async (_status, headers, res) => {
    const total = Number(headers['content-length']);
    const info = JSON.parse(String(headers['x-outpost-bundle'] ?? '{}')) as { agentId?: string; baseRevision?: number; targetRevision?: number; blobs?: number; clusterKeys?: BundleClusterKeys };
    const out = new PartWriter(o.output, total, maxPartBytes);
    const bar = process.stderr.isTTY ? new SingleBar({ format: 'bundle {bar} {percentage}% | {value}/{total} bytes | {eta_formatted} left', stream: process.stderr }) : undefined;
    bar?.start(total, 0);
    let received = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        out.write(chunk);
        received += chunk.length;
        bar?.update(received);
      }
      out.commit();
    } catch (err) {
      out.abort();
      throw err;
    } finally {
      bar?.stop();
    }
    const what = info.baseRevision ? `delta from revision ${info.baseRevision}` : 'full bundle';
    process.stdout.write(`${what} for site ${o.site} (agent ${info.agentId}) to revision ${info.targetRevision}: ${total} bytes, ${info.blobs} artifacts, written to ${out.names.join(', ')}\n`);
    if (o.enroll) process.stdout.write(`import it at the site: outpost-agent bundle import --data DIR --ca-hash ${caCertHash(ctx.caCert)} ${out.names.join(' ')}\n`);
    if (info.clusterKeys) reportClusterKeys(o.site, info.agentId ?? '?', info.clusterKeys, out.names[0]!);
  });
}

/** Says what the bundle carries of its Clusters' CAs, and, when none for want of the agent's key, how to get them there. */
function reportClusterKeys(site: string, agentId: string, k: BundleClusterKeys, file: string): void {
  if (k.agentKey) {
    process.stdout.write(`carries the CAs of ${k.sealed} of the site's ${k.clusters} clusters, sealed to agent ${agentId}'s encryption key (${k.agentKey})\n`);
    if (k.withoutCaCount) {
      const more = k.withoutCaCount > k.withoutCa.length ? ` and ${k.withoutCaCount - k.withoutCa.length} more` : '';
      process.stderr.write(`note: the hub holds no CAs of record for Cluster ${k.withoutCa.join(', ')}${more} (made before the hub kept cluster CAs); the site cannot build them with kubeadm\n`);
    }
    return;
  }
  process.stderr.write(
    `note: this bundle carries no cluster CAs: the hub does not know agent ${agentId}'s encryption key yet, and sends cluster CAs only sealed to it (site ${site} has ${k.clusters} ${k.clusters === 1 ? 'cluster' : 'clusters'} now). `
    + `To get them there: import this bundle at the site (outpost-agent bundle import --data DIR ${file}), write a status bundle there (outpost-agent bundle export-status --data DIR -o status.json), `
    + `record it here (outpost bundle import-status status.json), then create the next bundle (outpost bundle create --site ${site} --since ${file}): it carries them\n`,
  );
}

/** Adds `outpost bundle` to the program. */
export function registerBundle(program: Command): void {
  const bundle = program.command('bundle').description('air-gapped sync bundles: the site\'s view and artifacts on a disk, and its status back');
  bundle
    .command('create')
    .description("write a signed bundle of a site's view (and the artifacts its Clusters need) for a site without network")
    .requiredOption('--site <name>', 'the Site the bundle is for')
    .requiredOption('-o, --output <file>', 'the bundle file (FILE.part-0001-of-000N when split)')
    .option('--since <file-or-revision>', 'a delta from an earlier bundle (its file) or from a revision the site holds')
    .option('--max-part-size <size>', 'split into parts of at most this size, such as 700M or 4G')
    .option('--enroll', "create the site's agent (as a join does) and carry its identity, for a site that has never been online")
    .action(async (o: CreateFlags) => {
      await create(readConfig(program.opts<{ context?: string }>().context), o);
    });
  bundle
    .command('import-status')
    .description('record the statuses an agent exported with `outpost-agent bundle export-status`, as if they had come over its link')
    .argument('<file>', 'the status bundle')
    .action(async (file: string) => {
      const ctx = readConfig(program.opts<{ context?: string }>().context);
      const api = new ApiClient({ hub: ctx.hub, token: ctx.token, caCertPem: ctx.caCert });
      const text = readFileSync(file, 'utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new UsageError(`${file} is not a status bundle (not JSON); give the file \`outpost-agent bundle export-status\` wrote`);
      }
      const r = await api.call<StatusImportResult>('POST', `${API_PREFIX}/statusbundles`, body);
      process.stdout.write(`recorded ${r.recorded} statuses of agent ${r.agentId} (up to seq ${r.statusSeq}; ${r.skipped} recorded before), acked revision ${r.ackedRevision}\n`);
      if (r.encryptionKey === 'new' || r.encryptionKey === 'replaced') {
        process.stdout.write(`${r.encryptionKey === 'new' ? 'learned' : 'replaced'} agent ${r.agentId}'s encryption key (${r.encryptionKeyFingerprint}): the bundles made for it from now on carry its clusters' CAs, sealed to that key\n`);
      } else if (r.encryptionKey === 'older') {
        process.stderr.write(`note: the status bundle carries an encryption key older than the one the hub holds for agent ${r.agentId} (${r.encryptionKeyFingerprint}); the hub keeps the newer\n`);
      }
      for (const x of r.refused) process.stderr.write(`refused (${x.code}): ${x.message}\n`);
    });
}
