// The `outpost-agent` command line: join a hub once, then run.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { ByteSizeError, parseByteSize } from '@outpost/proto';
import { startAgent } from '../agent.js';
import { fetchArtifacts } from '../artifacts/fetch-command.js';
import { join, JoinFailed, loadIdentity } from '../identity.js';
import { AGENT_LOG_REDACTION } from '../log-redaction.js';
import { ReceivedReconciler } from '../reconcile/received-reconciler.js';
import { HostedClusterReconciler, KubeSeedApi, SeedConfigError, seedKubeConfig } from '../seed/index.js';
import { AGENT_VERSION } from '../version.js';

/** A flag's value in whole seconds, more than zero; anything else is refused naming the value. */
function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a whole number of seconds above 0`);
  return n;
}

/** A size flag's argument in bytes, or commander's error saying how to write one. */
function byteSize(v: string): number {
  try {
    return parseByteSize(v);
  } catch (err) {
    if (err instanceof ByteSizeError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

const CACHE_SIZE_HELP = "a site agent's artifact cache holds at most this much, such as 20GiB (default 20GiB); what no current Cluster's Release uses is evicted first";
const MAX_RATE_HELP = 'download artifacts no faster than this per second, such as 10MiB, for a shared uplink (default: unlimited)';

/** pino's levels an operator may choose, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export function buildProgram(): Command {
  const program = new Command('outpost-agent')
    .description('Outpost agent: dials out to the hub, pulls what its Seed or Site needs, makes it real, reports back.')
    .version(AGENT_VERSION)
    .showHelpAfterError('(outpost-agent --help lists commands)')
    .exitOverride();
  program
    .command('join')
    .description('verify the hub by its CA hash and swap a bootstrap token for this agent\'s own credential')
    .requiredOption('--hub <url>', 'hub URL, such as https://hub.example:8443')
    .requiredOption('--token <token>', 'bootstrap token from `outpost token create`')
    .requiredOption('--ca-hash <sha256:hex>', "the hub CA's hash, printed by `outpost token create`")
    .requiredOption('--data <dir>', 'directory for the agent identity and state')
    .action(async (o: { hub: string; token: string; caHash: string; data: string }) => {
      const id = await join({ hub: o.hub, token: o.token, caHash: o.caHash, dataDir: o.data, version: AGENT_VERSION });
      process.stdout.write(`joined ${id.hub} as agent ${id.agentId} (view ${id.view}); start it with: outpost-agent run --data ${o.data}\n`);
    });
  program
    .command('run')
    .description('connect to the hub and keep this Seed or Site in step with it, until SIGTERM')
    .requiredOption('--data <dir>', 'directory given to `outpost-agent join`')
    .option('--kubeconfig <file>', "a Seed's agent: the seed's Kubernetes API (default: the pod's in-cluster config)")
    .option('--leaf-cert-lifetime <seconds>', "a Seed's agent: lifetime of the hosted control planes' leaf certificates, renewed at 2/3 of it (default one year)", positiveSeconds)
    .option('--heal-interval <seconds>', "a Seed's agent: how often each hosted control plane is checked and drift put back (default 30)", positiveSeconds)
    .option('--artifact-cache-size <size>', CACHE_SIZE_HELP, byteSize)
    .option('--artifact-max-rate <size>', MAX_RATE_HELP, byteSize)
    .addOption(new Option('--log-level <level>', 'log level (JSON logs on stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (o: { data: string; kubeconfig?: string; leafCertLifetime?: number; healInterval?: number; artifactCacheSize?: number; artifactMaxRate?: number; logLevel: (typeof LOG_LEVELS)[number] }) => {
      const view = loadIdentity(o.data).view;
      const seed = seedKubeConfig({ view, kubeconfig: o.kubeconfig, env: process.env });
      const hosted = {
        seedName: view.replace(/^seed\//, ''),
        ...(o.leafCertLifetime !== undefined ? { leafLifetimeMs: o.leafCertLifetime * 1000 } : {}),
        ...(o.healInterval !== undefined ? { healIntervalMs: o.healInterval * 1000 } : {}),
      };
      // Every Cluster is acknowledged; a seed's hosted ones are also made real through its Kubernetes API.
      const reconcilers = [new ReceivedReconciler(), ...(seed ? [new HostedClusterReconciler({ ...hosted, api: new KubeSeedApi(seed) })] : [])];
      const artifactOpts = { ...(o.artifactCacheSize ? { artifactCacheBytes: o.artifactCacheSize } : {}), ...(o.artifactMaxRate ? { artifactMaxBytesPerSecond: o.artifactMaxRate } : {}) };
      const agent = await startAgent({ dataDir: o.data, reconcilers, ...artifactOpts }, pino({ level: o.logLevel, redact: AGENT_LOG_REDACTION }, pino.destination(2)));
      process.stdout.write(`outpost-agent ${AGENT_VERSION} running\n`);
      await new Promise<void>((resolve) => {
        const shutdown = (): void => void agent.stop().then(resolve);
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
    });
  const artifacts = program.command('artifacts').description("a site agent's artifact cache (DIR/artifacts)");
  artifacts
    .command('fetch')
    .description("download artifacts a Release in this agent's view lists into its cache now, resuming a download left half done, verifying each digest")
    .requiredOption('--data <dir>', 'directory given to `outpost-agent join`')
    .argument('<digest...>', 'sha256:HEX of each artifact (outpost get release VERSION -o yaml lists them)')
    .option('--artifact-cache-size <size>', CACHE_SIZE_HELP, byteSize)
    .option('--artifact-max-rate <size>', MAX_RATE_HELP, byteSize)
    .addOption(new Option('--log-level <level>', 'log level (JSON logs on stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (digests: string[], o: { data: string; artifactCacheSize?: number; artifactMaxRate?: number; logLevel: (typeof LOG_LEVELS)[number] }) => {
      await fetchArtifacts({
        dataDir: o.data,
        digests,
        ...(o.artifactCacheSize ? { cacheBytes: o.artifactCacheSize } : {}),
        ...(o.artifactMaxRate ? { maxBytesPerSecond: o.artifactMaxRate } : {}),
        out: (line) => process.stdout.write(`${line}\n`),
        log: pino({ level: o.logLevel, redact: AGENT_LOG_REDACTION }, pino.destination(2)),
      });
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof JoinFailed) {
      process.stderr.write(`error: join failed (${err.code}): ${err.message}\n`);
      return 1;
    }
    if (err instanceof SeedConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}
