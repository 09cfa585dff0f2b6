// The `outpost` command line: run a hub, make tokens, and manage resources through the admin API.
// Only `hub init` and `hub serve` need the server (store, gateway, better-sqlite3, PKI), and they load it
// when they run: the client commands on a laptop never load it (eslint forbids a static import of it
// here; test/integration/cli-client-only.test.ts checks what a client command loads).
import { readFileSync } from 'node:fs';
import { caCertHash, KINDS, PROTOCOL_MAJOR, PROTOCOL_MINOR, type Token } from '@outpost/proto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient, ApiError } from '../client/api-client.js';
import { HUB_VERSION } from '../version.js';
import { apply, diff } from './apply.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { ConfigError, configPath, readConfig, readConfigFile, selectContext, writeConfigFile, withContext } from './config.js';
import { deleteFromFile, deleteResource } from './delete.js';
import { describe, get, withoutSecret } from './get.js';
import { formatData, formatList, outputArg, type Output } from './output.js';
import { registerArtifacts } from './artifacts-gc.js';
import { registerBundle } from './bundle.js';
import { registerKubeconfig } from './kubeconfig.js';
import { registerRelease } from './release-import.js';
import { kindAndName, kindArg, scope, UsageError } from './usage.js';

/** An option's argument as a whole number, or commander's error naming the option and the argument. */
function wholeNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('write a whole number, such as 1000000.');
  return n;
}

function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new UsageError(`--listen ${value} is not HOST:PORT (such as 127.0.0.1:8443 or [::1]:8443)`);
  return { host: (m[1] ?? m[2]) || '0.0.0.0', port: Number(m[3]) };
}

/** kubectl's --dry-run values; only the server's kind exists here (a client-side one would check less than the hub does). */
function dryRunArg(value: string | undefined): boolean {
  if (value === undefined || value === 'none') return false;
  if (value === 'server') return true;
  throw new UsageError(`--dry-run=${value} is not supported: use --dry-run=server (the hub checks everything and writes nothing) or leave it out`);
}

const PROTOCOL = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;
const repeatable = (v: string, prev: string[]): string[] => [...prev, v];

export function buildProgram(): Command {
  const program = new Command('outpost')
    .description('Outpost: Kubernetes clusters on sites nobody can reach. Run the hub and manage its resources.')
    .version(HUB_VERSION)
    .option('--context <name>', 'the hub to talk to: a context of the config (outpost config get-contexts lists them); default: the current one')
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
    .option('--min-request-timeout <duration>', 'a watch without timeoutSeconds ends after between this and twice this, and the client resumes it, as kube-apiserver (default 30m)')
    .option('--audit-max-age <duration>', 'prune audit rows older than this, such as 30d or 12h (default 90d)')
    .option('--audit-max-rows <n>', 'keep at most N audit rows, the newest (default 1000000)', wholeNumber)
    .option('--max-upload-size <size>', 'one artifact upload (outpost release import) may be at most this large, such as 8GiB (default 8GiB)')
    .option('--blob-gc-grace <duration>', 'remove a blob no Release lists once it is older than this, such as 24h: the time from an upload to its Release (default 24h, at least 1m)')
    .option('--blob-gc-interval <duration>', 'sweep the content store for such blobs this often, such as 1h (default 1h; also after a Release is deleted, and on `outpost artifacts gc`)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .action(async (o: { data: string; listen: string; heartbeat?: number; gatewayProcesses?: number; connectionsPerGatewayProcess?: number; maxConnections?: number; maxUnauthenticatedConnections?: number; maxUnauthenticatedPerAddress?: number; handshakeTimeout?: string; maxFailedJoinsPerMinute?: number; minRequestTimeout?: string; auditMaxAge?: string; auditMaxRows?: number; maxUploadSize?: string; blobGcGrace?: string; blobGcInterval?: string; logLevel: string }) => {
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
        minRequestTimeout: o.minRequestTimeout,
        auditMaxAge: o.auditMaxAge,
        auditMaxRows: o.auditMaxRows,
        maxUploadSize: o.maxUploadSize,
        blobGcGrace: o.blobGcGrace,
        blobGcInterval: o.blobGcInterval,
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

  /** The API client of the context this command talks to (--context NAME, else the current one). */
  const client = (): ApiClient => {
    const ctx = readConfig(program.opts<{ context?: string }>().context);
    return new ApiClient({ hub: ctx.hub, token: ctx.token, caCertPem: ctx.caCert });
  };

  program
    .command('login')
    .description('remember a hub, an API token and the hub CA as a named context, and make it current')
    .requiredOption('--hub <url>', 'hub URL, such as https://hub.example:8443')
    .requiredOption('--token-file <file>', 'file holding an API token (admin.token from `outpost hub init`)')
    .requiredOption('--ca-file <file>', "the hub's CA certificate (ca.crt from `outpost hub init`)")
    .option('--name <context>', "the context's name (default: the hub's host:port); logging in again under a name replaces it")
    .action(async (o: { hub: string; tokenFile: string; caFile: string; name?: string }) => {
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
      const name = o.name ?? program.opts<{ context?: string }>().context ?? url.host;
      const path = writeConfigFile(withContext(readConfigFile(), { name, hub: url.origin, token, caCert }));
      process.stdout.write(`logged in to ${url.origin} as context "${name}" (now current); config written to ${path}\n`);
    });

  const config = program.command('config').description('the hubs this CLI knows (contexts), as kubectl config');
  config
    .command('get-contexts')
    .description('list the contexts; * marks the current one')
    .addOption(new Option('-o, --output <format>', 'name: only the names').choices(['name']))
    .action((o: { output?: string }) => {
      const cfg = readConfigFile();
      if (o.output === 'name') {
        process.stdout.write(cfg.contexts.map((c) => `${c.name}\n`).join(''));
        return;
      }
      if (cfg.contexts.length === 0) {
        process.stderr.write(`no contexts in ${configPath()}; run \`outpost login\` first\n`);
        return;
      }
      const rows = [['CURRENT', 'NAME', 'HUB'], ...cfg.contexts.map((c) => [c.name === cfg.currentContext ? '*' : '', c.name, c.hub])];
      const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
      process.stdout.write(rows.map((r) => `${r[0]!.padEnd(widths[0]! + 3)}${r[1]!.padEnd(widths[1]! + 3)}${r[2]}\n`).join(''));
    });
  config
    .command('current-context')
    .description('print the current context')
    .action(() => {
      const cfg = readConfigFile();
      if (!cfg.currentContext) throw new ConfigError(`${configPath()} names no current context; choose one with \`outpost config use-context NAME\``);
      process.stdout.write(`${cfg.currentContext}\n`);
    });
  config
    .command('use-context')
    .description('make a context the current one')
    .argument('<context>', 'context name (outpost config get-contexts lists them)')
    .action((name: string) => {
      const cfg = readConfigFile();
      selectContext(cfg, name);
      writeConfigFile({ ...cfg, currentContext: name });
      process.stdout.write(`Switched to context "${name}".\n`);
    });
  config
    .command('delete-context')
    .description('forget a context (its token stays valid at the hub: revoke it there with `outpost token revoke`)')
    .argument('<context>', 'context name')
    .action((name: string) => {
      const cfg = readConfigFile();
      selectContext(cfg, name);
      writeConfigFile({ currentContext: cfg.currentContext === name ? '' : cfg.currentContext, contexts: cfg.contexts.filter((c) => c.name !== name) });
      process.stdout.write(`deleted context "${name}" from ${configPath()}\n`);
    });

  program
    .command('apply')
    .description('create or update resources from multi-document YAML or JSON')
    .requiredOption('-f, --filename <file>', 'manifest file, or - for stdin')
    .option('--dry-run <mode>', 'server: the hub checks every object (shape, admission, conflicts) and writes nothing')
    .action(async (o: { filename: string; dryRun?: string }) => {
      process.exitCode = await apply(client(), o.filename, dryRunArg(o.dryRun));
    });

  program
    .command('diff')
    .description("what apply -f would change: the hub's dry run of it against the live objects, as a unified diff (exit 0: none, 1: differences, 2: an error)")
    .requiredOption('-f, --filename <file>', 'manifest file, or - for stdin')
    .action(async (o: { filename: string }) => {
      // kubectl diff's exit codes: 1 means "differences", so every failure is 2.
      try {
        process.exitCode = await diff(client(), o.filename);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });

  const kindHelp = `kind: ${KINDS.map((k) => k.plural).join(', ')} (singular and short names work too; KIND/NAME names one)`;
  program
    .command('get')
    .description('list resources of a kind, or show one; -w then prints each change')
    .argument('<kind>', kindHelp)
    .argument('[name]', 'one resource')
    .option('-n, --namespace <project>', 'project of project-scoped kinds (default: all projects)')
    .option('-A, --all-namespaces', 'every project (the default when -n is left out)')
    .option('-l, --selector <selector>', 'label selector, such as env=prod,tier!=db')
    .option('--field-selector <selector>', 'field selector: metadata.name=NAME, metadata.namespace=PROJECT')
    .option('-w, --watch', 'after the list, print each change as it happens, until interrupted')
    .addOption(new Option('-o, --output <format>', 'wide, name, yaml, json or jsonpath=TEMPLATE (default: a table)').argParser(outputArg))
    .action(async (kindWord: string, nameArg: string | undefined, o: { namespace?: string; allNamespaces?: boolean; selector?: string; fieldSelector?: string; watch?: boolean; output?: Output }) => {
      const { kind, name } = kindAndName(kindWord, nameArg);
      const namespace = scope(kind, o, name);
      process.exitCode = await get(client(), kind, name, namespace, { output: o.output ?? { format: 'table' }, watch: o.watch, labelSelector: o.selector, fieldSelector: o.fieldSelector });
    });

  program
    .command('describe')
    .description('show a resource (or every one of a kind) in full: metadata, spec, status, conditions, last operation and errors')
    .argument('<kind>', kindHelp)
    .argument('[name]', 'one resource (default: all of the kind)')
    .option('-n, --namespace <project>', 'project of project-scoped kinds')
    .option('-A, --all-namespaces', 'every project')
    .option('-l, --selector <selector>', 'label selector, such as env=prod')
    .action(async (kindWord: string, nameArg: string | undefined, o: { namespace?: string; allNamespaces?: boolean; selector?: string }) => {
      const { kind, name } = kindAndName(kindWord, nameArg);
      process.exitCode = await describe(client(), kind, name, scope(kind, o, name), { labelSelector: o.selector });
    });

  program
    .command('delete')
    .description('delete a resource, or what the manifests of -f FILE name (dependents first)')
    .argument('[kind]', kindHelp)
    .argument('[name]', 'name')
    .option('-f, --filename <file>', 'delete every object this manifest file (or - for stdin) names')
    .option('-n, --namespace <project>', 'project of project-scoped kinds')
    .option('--ignore-not-found', 'an object that does not exist is no error')
    .option('--force', "remove every finalizer and delete now, without waiting for the agent's teardown")
    .option('--dry-run <mode>', 'server: the hub checks the delete and says what it would do, deleting nothing')
    .action(async (kindWord: string | undefined, nameArg: string | undefined, o: { filename?: string; namespace?: string; ignoreNotFound?: boolean; force?: boolean; dryRun?: string }) => {
      const opts = { force: o.force ?? false, dryRun: dryRunArg(o.dryRun), ignoreNotFound: o.ignoreNotFound };
      if (o.filename) {
        if (kindWord) throw new UsageError(`-f ${o.filename} names what to delete; leave out "${[kindWord, nameArg].filter(Boolean).join(' ')}"`);
        process.exitCode = await deleteFromFile(client(), o.filename, opts);
        return;
      }
      if (!kindWord) throw new UsageError('say what to delete: KIND NAME, KIND/NAME, or -f FILE');
      const { kind, name } = kindAndName(kindWord, nameArg);
      if (!name) throw new UsageError(`say which ${kind.singular} to delete: outpost delete ${kind.singular} NAME`);
      process.exitCode = await deleteResource(client(), kind, name, scope(kind, o, name), opts);
    });

  program
    .command('version')
    .description("this CLI's version and the hub's, and the agent wire protocol each speaks")
    .option('--client', 'only the client: ask no hub')
    .addOption(new Option('-o, --output <format>', 'yaml or json').choices(['yaml', 'json']))
    .action(async (o: { client?: boolean; output?: 'yaml' | 'json' }) => {
      const clientVersion = { version: HUB_VERSION, protocol: PROTOCOL };
      let server: { version: string; revision: number; protocol?: string } | undefined;
      let failure: Error | undefined;
      if (!o.client) {
        try {
          server = await client().version();
        } catch (err) {
          failure = err as Error;
        }
      }
      if (o.output) process.stdout.write(formatData({ clientVersion, ...(server ? { serverVersion: server } : {}) }, o.output));
      else {
        process.stdout.write(`Client Version: ${HUB_VERSION}\nClient Protocol: ${PROTOCOL}\n`);
        if (server) process.stdout.write(`Server Version: ${server.version}\nServer Protocol: ${server.protocol ?? '<not said: a hub older than this CLI>'}\nServer Revision: ${server.revision}\n`);
      }
      if (failure) throw failure;
    });

  program
    .command('completion')
    .description('print a shell completion script: source <(outpost completion bash), or zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else throw new UsageError(`no completion for "${shell}": write outpost completion bash, or outpost completion zsh`);
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
      const ctx = readConfig(program.opts<{ context?: string }>().context);
      const api = new ApiClient({ hub: ctx.hub, token: ctx.token, caCertPem: ctx.caCert });
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
          `  outpost-agent join --hub ${ctx.hub} --token ${secret} --ca-hash ${caCertHash(ctx.caCert)} --data /var/lib/outpost-agent\n\n`,
      );
    });
  token
    .command('list')
    .description('the tokens: id, type, what for, expiry, whether used (never a secret: the hub keeps only hashes)')
    .addOption(new Option('-o, --output <format>', 'wide, name, yaml, json or jsonpath=TEMPLATE (default: a table)').argParser(outputArg))
    .action(async (o: { output?: Output }) => {
      const api = client();
      const list = await api.list(kindArg('tokens'));
      process.stdout.write(formatList(list.items.map(withoutSecret), list.metadata, o.output ?? { format: 'table' }, false));
    });
  token
    .command('revoke')
    .description('delete tokens, so they stop working at once (an agent that already joined keeps its own credential: revoke that with its Agent)')
    .argument('<id...>', 'token id (the part before the dot; outpost token list shows them)')
    .action(async (ids: string[]) => {
      const api = client();
      let failed = 0;
      for (const id of ids) {
        const name = id.split('.')[0]!;
        try {
          await api.delete(kindArg('tokens'), name);
          process.stdout.write(`token/${name} revoked\n`);
        } catch (err) {
          failed++;
          const notFound = err instanceof ApiError && err.status === 404;
          process.stderr.write(`error: token/${name}: ${notFound ? `no such token (outpost token list shows the tokens there are)` : (err as Error).message}\n`);
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
  registerKubeconfig(program);
  registerRelease(program, client);
  registerArtifacts(program, client);
  registerBundle(program);
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
