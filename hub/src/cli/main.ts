// The `outpost` command line: run a hub, make tokens, and manage resources through the admin API.
// Only `hub init` and `hub serve` need the server (store, gateway, better-sqlite3, PKI), and they load it
// when they run: the client commands on a laptop never load it (eslint forbids a static import of it
// here; test/integration/cli-client-only.test.ts checks what a client command loads).
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { caCertHash, findKind, isAgentFinalizer, KINDS, type KindInfo, type ResourceObject, type Token } from '@outpost/proto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import { ApiClient, ApiError } from '../client/api-client.js';
import { HUB_VERSION } from '../version.js';
import { readConfig, writeConfig } from './config.js';
import { parseManifests, readManifestSource } from './manifests.js';
import { renderTable } from './table.js';

/** An option's argument as a whole number, or commander's error naming the option and the argument. */
function wholeNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('write a whole number, such as 1000000.');
  return n;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--listen ${value} is not HOST:PORT (such as 127.0.0.1:8443 or [::1]:8443)`);
  return { host: (m[1] ?? m[2]) || '0.0.0.0', port: Number(m[3]) };
}

function kindArg(name: string): KindInfo {
  const k = findKind(name);
  if (!k) throw new UsageError(`unknown kind "${name}"; known kinds: ${KINDS.map((x) => x.plural).join(', ')}`);
  return k;
}

function client(): ApiClient {
  const cfg = readConfig();
  return new ApiClient({ hub: cfg.hub, token: cfg.token, caCertPem: cfg.caCert });
}

function print(value: unknown, format: string): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : YAML.stringify(value));
}

/**
 * What `apply` owns of an object: the user-settable metadata and the spec. Agent finalizers are the hub's
 * (it keeps them on a replace), so a manifest without them is not a change.
 */
function applied(o: ResourceObject): unknown {
  const m = o.metadata;
  const finalizers = (m.finalizers ?? []).filter((f) => !isAgentFinalizer(f));
  return { labels: m.labels ?? {}, annotations: m.annotations ?? {}, finalizers, spec: JSON.parse(JSON.stringify(o.spec ?? {})) as unknown };
}

/** kubectl's --dry-run values; only the server's kind exists here (a client-side one would check less than the hub does). */
function dryRunArg(value: string | undefined): boolean {
  if (value === undefined || value === 'none') return false;
  if (value === 'server') return true;
  throw new UsageError(`--dry-run=${value} is not supported: use --dry-run=server (the hub checks everything and writes nothing) or leave it out`);
}

async function apply(file: string, dryRun: boolean): Promise<number> {
  const { text, source } = readManifestSource(file);
  const objects = parseManifests(text, source);
  const api = client();
  let failed = 0;
  for (const obj of objects) {
    const kind = kindArg(obj.kind);
    const label = `${kind.singular}/${obj.metadata.name}`;
    const namespace = obj.metadata.namespace ?? undefined;
    if (kind.namespaced && !namespace) {
      process.stderr.write(`error: ${label}: ${kind.kind} lives in a project; set metadata.namespace\n`);
      failed++;
      continue;
    }
    try {
      let current: ResourceObject | undefined;
      try {
        current = await api.get(kind, obj.metadata.name ?? '', namespace);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404 && err.reason === 'NotFound')) throw err;
      }
      const dry = dryRun ? ' (server dry run)' : '';
      if (!current) {
        const created = await api.create<Token>(obj, { dryRun });
        process.stdout.write(`${label} created${dry}\n`);
        if (created.kind === 'Token' && created.status?.token) process.stdout.write(`token: ${created.status.token}\n`);
      } else if (isDeepStrictEqual(applied(obj), applied(current))) {
        process.stdout.write(`${label} unchanged${dry}\n`);
      } else {
        await api.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } }, { dryRun });
        process.stdout.write(`${label} configured${dry}\n`);
      }
    } catch (err) {
      failed++;
      process.stderr.write(`error: ${label}: ${(err as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/**
 * Deletes; an object with finalizers stays Terminating until they are released. `force` then removes
 * them (a live object would get its serving agent's finalizer straight back, so the delete comes first).
 */
async function deleteResource(api: ApiClient, kind: KindInfo, name: string, namespace: string | undefined, force: boolean, dryRun: boolean): Promise<number> {
  const label = `${kind.singular}/${name}`;
  if (dryRun) {
    if (force) throw new UsageError('--force and --dry-run=server do not go together: a forced delete cannot be rehearsed by the hub');
    const would = await api.delete(kind, name, namespace, { dryRun });
    const held = would.metadata.deletionTimestamp && would.metadata.finalizers?.length;
    process.stdout.write(held ? `${label} would be Terminating, waiting for ${(would.metadata.finalizers ?? []).join(', ')} (server dry run)\n` : `${label} deleted (server dry run)\n`);
    return 0;
  }
  const marked = await api.delete(kind, name, namespace);
  const pending = marked.metadata.finalizers ?? [];
  if (!marked.metadata.deletionTimestamp || pending.length === 0) {
    process.stdout.write(`${label} deleted\n`);
    return 0;
  }
  if (!force) {
    const agents = pending.filter(isAgentFinalizer);
    const why = agents.length ? "its agent tears down what it made, then the hub deletes it; if the agent is offline it waits for it" : 'the hub deletes it once they are removed';
    process.stdout.write(`${label} is Terminating, waiting for ${pending.join(', ')}: ${why} (--force does not wait)\n`);
    return 0;
  }
  try {
    await api.patch(kind, name, { metadata: { finalizers: [] } }, namespace);
  } catch (err) {
    // Released meanwhile: the delete finished by itself.
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  process.stderr.write(`warning: ${label} deleted without waiting for ${pending.join(', ')}: whatever its agent made for it is left in place, until that agent next connects and tears it down (for good if it never does)\n`);
  process.stdout.write(`${label} deleted (forced)\n`);
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('outpost')
    .description('Outpost: Kubernetes clusters on sites nobody can reach. Run the hub and manage its resources.')
    .version(HUB_VERSION)
    .showHelpAfterError('(outpost --help lists commands)')
    .exitOverride();

  const hub = program.command('hub').description('run the hub');
  hub
    .command('init')
    .description('make a hub data directory: CA, serving certificate, secrets key, first admin token')
    .requiredOption('--data <dir>', 'data directory to create')
    .option('--san <name>', 'DNS name or IP the hub is reached at (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (o: { data: string; san: string[] }) => {
      const sans = o.san.length ? o.san : ['localhost', '127.0.0.1', '::1'];
      const { initDataDir } = await import('../data-dir.js');
      const r = await initDataDir(o.data, sans);
      process.stdout.write(`hub initialised in ${o.data}\nCA certificate: ${r.caCertPath}\nadmin token:    ${r.adminTokenPath}\nCA hash:        ${r.caHash}\n`);
    });
  hub
    .command('serve')
    .description('serve the admin API (HTTPS) and agents (WSS, /agent/v1) on one port')
    .requiredOption('--data <dir>', 'data directory made by `outpost hub init`')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8443')
    .option('--heartbeat <ms>', 'heartbeat interval in milliseconds', (v) => Number(v))
    .option('--gateway-processes <n>', 'serve agents from N processes sharing the port (0: in this process)', (v) => Number(v))
    .option('--connections-per-gateway-process <n>', 'a gateway process stops accepting at N connections, leaving new ones to the others (default: --max-connections less a tenth, at most 1000 less, and at most 18000)', (v) => Number(v))
    .option('--max-connections <n>', 'connections one process holds at most; past it new ones are closed at accept (default: `ulimit -n` less 5 %, at least 64 and at most 1000 kept for the hub itself)', wholeNumber)
    .option('--max-unauthenticated-connections <n>', 'of those, connections that have not shown an agent credential or API token; the rest stay for connected agents and admins, and a newcomer replaces the oldest connection silent for 1 s (default: half of --max-connections)', wholeNumber)
    .option('--max-unauthenticated-per-address <n>', 'unauthenticated connections from one remote address, per process (default: a quarter of --max-unauthenticated-connections)', wholeNumber)
    .option('--handshake-timeout <duration>', 'a connection must finish TLS and send its first request within this, such as 10s (default 10s)')
    .option('--max-failed-joins-per-minute <n>', 'failed joins one remote address may make per minute, in a burst or spread; more get 429 with Retry-After (default 10)', wholeNumber)
    .option('--audit-max-age <duration>', 'prune audit rows older than this, such as 30d or 12h (default 90d)')
    .option('--audit-max-rows <n>', 'keep at most N audit rows, the newest (default 1000000)', wholeNumber)
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (o: { data: string; listen: string; heartbeat?: number; gatewayProcesses?: number; connectionsPerGatewayProcess?: number; maxConnections?: number; maxUnauthenticatedConnections?: number; maxUnauthenticatedPerAddress?: number; handshakeTimeout?: string; maxFailedJoinsPerMinute?: number; auditMaxAge?: string; auditMaxRows?: number; logLevel: string }) => {
      const { host, port } = parseListen(o.listen);
      const { startHub } = await import('../hub.js');
      const running = await startHub({
        dataDir: o.data,
        host,
        port,
        heartbeatIntervalMs: o.heartbeat,
        gatewayProcesses: o.gatewayProcesses,
        connectionsPerGatewayProcess: o.connectionsPerGatewayProcess,
        maxConnections: o.maxConnections,
        maxUnauthenticatedConnections: o.maxUnauthenticatedConnections,
        maxUnauthenticatedPerAddress: o.maxUnauthenticatedPerAddress,
        handshakeTimeout: o.handshakeTimeout,
        maxFailedJoinsPerMinute: o.maxFailedJoinsPerMinute,
        auditMaxAge: o.auditMaxAge,
        auditMaxRows: o.auditMaxRows,
        logLevel: o.logLevel,
      });
      process.stdout.write(`outpost hub ${HUB_VERSION} listening on ${running.url} (CA hash ${running.caHash})\n`);
      await new Promise<void>((resolve) => {
        const shutdown = (): void => {
          process.stdout.write('outpost hub shutting down\n');
          void running.stop().then(resolve);
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
    });

  program
    .command('login')
    .description('remember a hub, an API token and the hub CA for the other commands')
    .requiredOption('--hub <url>', 'hub URL, such as https://hub.example:8443')
    .requiredOption('--token-file <file>', 'file holding an API token (admin.token from `outpost hub init`)')
    .requiredOption('--ca-file <file>', "the hub's CA certificate (ca.crt from `outpost hub init`)")
    .action(async (o: { hub: string; tokenFile: string; caFile: string }) => {
      let url: URL;
      try {
        url = new URL(o.hub);
      } catch {
        throw new UsageError(`--hub ${o.hub} is not a URL; write it as https://HOST:PORT`);
      }
      if (url.protocol !== 'https:') throw new UsageError(`--hub must be https:// (the hub serves TLS only), not ${url.protocol}`);
      const token = readFileSync(o.tokenFile, 'utf8').trim();
      const caCert = readFileSync(o.caFile, 'utf8');
      caCertHash(caCert); // fails early on a file that is not a certificate
      const api = new ApiClient({ hub: url.origin, token, caCertPem: caCert });
      await api.list(kindArg('datacenters'));
      const path = writeConfig({ hub: url.origin, token, caCert });
      process.stdout.write(`logged in to ${url.origin}; config written to ${path}\n`);
    });

  program
    .command('apply')
    .description('create or update resources from multi-document YAML or JSON')
    .requiredOption('-f, --filename <file>', 'manifest file, or - for stdin')
    .option('--dry-run <mode>', 'server: the hub checks every object (shape, admission, conflicts) and writes nothing')
    .action(async (o: { filename: string; dryRun?: string }) => {
      process.exitCode = await apply(o.filename, dryRunArg(o.dryRun));
    });

  program
    .command('get')
    .description('list resources of a kind, or show one')
    .argument('<kind>', `kind: ${KINDS.map((k) => k.plural).join(', ')} (singular and short names work too)`)
    .argument('[name]', 'one resource')
    .option('-n, --namespace <project>', 'project of project-scoped kinds (default: all projects)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (kindName: string, name: string | undefined, o: { namespace?: string; output: string }) => {
      const kind = kindArg(kindName);
      const api = client();
      if (name) {
        if (kind.namespaced && !o.namespace) throw new UsageError(`${kind.plural} live in a project: add -n PROJECT`);
        const obj = await api.get(kind, name, o.namespace);
        if (o.output === 'table') process.stdout.write(`${renderTable([obj], false)}\n`);
        else print(obj, o.output);
        return;
      }
      const list = await api.list(kind, o.namespace);
      if (o.output === 'table') process.stdout.write(`${renderTable(list.items, kind.namespaced && !o.namespace)}\n`);
      else print({ apiVersion: 'v1', kind: 'List', metadata: list.metadata, items: list.items }, o.output);
    });

  program
    .command('delete')
    .description('delete a resource')
    .argument('<kind>', 'kind')
    .argument('<name>', 'name')
    .option('-n, --namespace <project>', 'project of project-scoped kinds')
    .option('--force', "remove every finalizer and delete now, without waiting for the agent's teardown")
    .option('--dry-run <mode>', 'server: the hub checks the delete and says what it would do, deleting nothing')
    .action(async (kindName: string, name: string, o: { namespace?: string; force?: boolean; dryRun?: string }) => {
      const kind = kindArg(kindName);
      if (kind.namespaced && !o.namespace) throw new UsageError(`${kind.plural} live in a project: add -n PROJECT`);
      process.exitCode = await deleteResource(client(), kind, name, o.namespace, o.force ?? false, dryRunArg(o.dryRun));
    });

  const token = program.command('token').description('bootstrap tokens for agents, API tokens for people');
  token
    .command('create')
    .description('make a token; for an agent, prints the `outpost-agent join` command to run at the site')
    .option('--site <name>', 'bootstrap token for the agent of this Site')
    .option('--seed <name>', 'bootstrap token for the agent of this Seed')
    .option('--api', 'an API token instead')
    .addOption(new Option('--role <role>', 'API token role').choices(['admin', 'owner', 'editor', 'viewer']))
    .option('--project <name>', 'API token project (for owner, editor, viewer)')
    .option('--ttl <duration>', 'lifetime such as 30m, 1h, 7d (bootstrap default 1h; API default never)')
    .option('--description <text>', 'what the token is for')
    .action(async (o: { site?: string; seed?: string; api?: boolean; role?: string; project?: string; ttl?: string; description?: string }) => {
      const chosen = [o.site, o.seed, o.api].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError('say what the token is for: exactly one of --site NAME, --seed NAME or --api');
      if (o.api && !o.role) throw new UsageError('--api needs --role (admin, owner, editor or viewer)');
      const cfg = readConfig();
      const api = new ApiClient({ hub: cfg.hub, token: cfg.token, caCertPem: cfg.caCert });
      const spec = o.api
        ? { type: 'api', role: o.role, project: o.project, ttl: o.ttl, description: o.description }
        : { type: 'bootstrap', site: o.site, seed: o.seed, ttl: o.ttl ?? '1h', description: o.description };
      const created = await api.create<Token>({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: {}, spec: JSON.parse(JSON.stringify(spec)) as object });
      const secret = created.status?.token ?? '';
      if (o.api) {
        process.stdout.write(`${secret}\n`);
        process.stderr.write(`API token ${created.metadata.name} (${o.role}${o.project ? ` in ${o.project}` : ''}); shown once, keep it safe\n`);
        return;
      }
      process.stdout.write(`${secret}\n`);
      process.stderr.write(
        `bootstrap token ${created.metadata.name} for ${o.site ? `site ${o.site}` : `seed ${o.seed}`}, single use, expires ${created.spec?.expires}\n` +
          `run at the ${o.site ? 'site' : 'seed'}:\n\n` +
          `  outpost-agent join --hub ${cfg.hub} --token ${secret} --ca-hash ${caCertHash(cfg.caCert)} --data /var/lib/outpost-agent\n\n`,
      );
    });
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`error: ${err.message}\n`);
      for (const c of err.causes) process.stderr.write(`  ${c.field}: ${c.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}
