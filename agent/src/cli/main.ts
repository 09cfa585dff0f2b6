// The `outpost-agent` command line: join a hub once, then run.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { ByteSizeError, parseByteSize } from '@outpost/proto';
import { startAgent } from '../agent.js';
import { fetchArtifacts } from '../artifacts/fetch-command.js';
import { BundleRefused, exportStatus, importBundle } from '../bundles/index.js';
import { join, JoinFailed, loadIdentity } from '../identity.js';
import { AGENT_LOG_REDACTION } from '../log-redaction.js';
import { ReceivedReconciler } from '../reconcile/received-reconciler.js';
import { SeedConfigError } from '../seed/errors.js';
import { HostReconciler } from '../site/host-reconciler.js';
import { KubeadmClusterReconciler } from '../site/kubeadm-cluster-reconciler.js';
import { HostedWorkersReconciler } from '../site/hosted-workers-reconciler.js';
import { ensureAgentSshKey } from '../site/ssh/agent-ssh-key.js';
import { UploadSlots } from '../site/upload-slots.js';
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
      if (id.view.startsWith('site/')) process.stdout.write(`authorize its SSH key on the site's hosts (for the user each Host's spec.sshUser names): outpost-agent ssh-key --data ${o.data}\n`);
    });
  program
    .command('ssh-key')
    .description("print this agent's SSH public key (one authorized_keys line), made at join; its private key never leaves DIR")
    .requiredOption('--data <dir>', 'directory given to `outpost-agent join`')
    .action((o: { data: string }) => {
      // An agent joined before agents had a key gets one here, as it would at its next start.
      const key = ensureAgentSshKey(o.data, loadIdentity(o.data).agentId);
      process.stdout.write(`${key.publicKey}\n`);
    });
  program
    .command('run')
    .description('connect to the hub and keep this Seed or Site in step with it, until SIGTERM')
    .requiredOption('--data <dir>', 'directory given to `outpost-agent join`')
    .option('--kubeconfig <file>', "a Seed's agent: the seed's Kubernetes API (default: the pod's in-cluster config)")
    .option('--leaf-cert-lifetime <seconds>', "a Seed's agent: lifetime of the hosted control planes' leaf certificates, renewed at 2/3 of it (default one year)", positiveSeconds)
    .option('--heal-interval <seconds>', 'how often each cluster is checked and drift put back (default 300; a seed\'s agent also watches what it made and puts drift back at once, so this is its safety net)', positiveSeconds)
    .option('--drain-timeout <seconds>', "a Site's agent: how long a kubeadm worker's drain (for an upgrade, or the worker taken out of its Cluster) may take before its step fails and is tried again (default 300)", positiveSeconds)
    .option('--artifact-cache-size <size>', CACHE_SIZE_HELP, byteSize)
    .option('--artifact-max-rate <size>', MAX_RATE_HELP, byteSize)
    .option('--offline', 'do not dial the hub: reconcile what bundles brought (`outpost-agent bundle import`)')
    .addOption(new Option('--log-level <level>', 'log level (JSON logs on stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (o: { data: string; kubeconfig?: string; leafCertLifetime?: number; healInterval?: number; drainTimeout?: number; artifactCacheSize?: number; artifactMaxRate?: number; offline?: boolean; logLevel: (typeof LOG_LEVELS)[number] }) => {
      const log = pino({ level: o.logLevel, redact: AGENT_LOG_REDACTION }, pino.destination(2));
      const identity = loadIdentity(o.data);
      const view = identity.view;
      // Loaded only for a Seed's agent (or to refuse a Site's --kubeconfig): the Kubernetes client costs
      // every other command (a bundle import) most of its start, and a Site's agent, which never calls
      // it, about 70 MB of its RSS.
      const seedMode = await (view.startsWith('seed/') || o.kubeconfig !== undefined ? import('../seed/index.js') : undefined);
      const seed = seedMode?.seedKubeConfig({ view, kubeconfig: o.kubeconfig, env: process.env });
      const hosted = {
        seedName: view.replace(/^seed\//, ''),
        ...(o.leafCertLifetime !== undefined ? { leafLifetimeMs: o.leafCertLifetime * 1000 } : {}),
        ...(o.healInterval !== undefined ? { healIntervalMs: o.healInterval * 1000 } : {}),
      };
      // Every Cluster is acknowledged; a seed's hosted ones are also made real through its Kubernetes API.
      // A site's agent checks its Hosts and makes its kubeadm Clusters over SSH, with its own key.
      const privateKey = view.startsWith('site/') ? ensureAgentSshKey(o.data, identity.agentId).privateKey : undefined;
      // One bound on artifact uploads for the whole agent (site/upload-slots.ts says why).
      const siteOpts = { privateKey: privateKey ?? '', uploads: new UploadSlots(), ...(o.healInterval !== undefined ? { healIntervalMs: o.healInterval * 1000 } : {}) };
      const kubeadmOpts = { ...siteOpts, ...(o.drainTimeout !== undefined ? { drainTimeoutMs: o.drainTimeout * 1000 } : {}) };
      // A site's agent also joins its Hosts that a hosted Cluster lists as static workers.
      const siteHosts = privateKey ? [new HostReconciler({ privateKey }), new KubeadmClusterReconciler(kubeadmOpts), new HostedWorkersReconciler(siteOpts)] : [];
      const makers = [...siteHosts, ...(seedMode && seed ? [new seedMode.HostedClusterReconciler({ ...hosted, api: new seedMode.KubeSeedApi(seed), watch: new seedMode.SeedWatch({ kubeConfig: seed, log }) })] : [])];
      const reconcilers = [new ReceivedReconciler(makers), ...makers];
      const artifactOpts = { ...(o.artifactCacheSize ? { artifactCacheBytes: o.artifactCacheSize } : {}), ...(o.artifactMaxRate ? { artifactMaxBytesPerSecond: o.artifactMaxRate } : {}) };
      const agent = await startAgent({ dataDir: o.data, reconcilers, offline: o.offline === true, ...artifactOpts }, log);
      process.stdout.write(`outpost-agent ${AGENT_VERSION} running${o.offline ? ' offline (no hub link; statuses wait for `outpost-agent bundle export-status`)' : ''}\n`);
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

  registerBundle(program);
  return program;
}

function registerBundle(program: Command): void {
  const bundle = program.command('bundle').description('air-gapped sync bundles: import what the hub wrote, export statuses for it');
  bundle
    .command('import')
    .description("check a bundle (signature, every digest) and apply it as a Sync from the hub: its changes into local state, its artifacts into the cache")
    .requiredOption('--data <dir>', "the agent's data directory (empty for an enrolling bundle)")
    .option('--ca-hash <sha256:hex>', "an enrolling bundle: the hub CA's hash, as printed by `outpost bundle create --enroll`")
    .option('--artifact-cache-size <size>', `${CACHE_SIZE_HELP}; give the one \`run\` has`, byteSize)
    .argument('<file...>', 'the bundle file, or all its parts in order')
    .action(async (files: string[], o: { data: string; caHash?: string; artifactCacheSize?: number }) => {
      const r = await importBundle({ dataDir: o.data, files, caHash: o.caHash, cacheBytes: o.artifactCacheSize });
      const m = r.manifest;
      if (!r.applied) {
        process.stdout.write(`bundle ${m.id} (revision ${m.targetRevision}) was imported before; nothing to do\n`);
        return;
      }
      const what = m.snapshot ? 'full bundle' : `delta from revision ${m.baseRevision}`;
      process.stdout.write(`imported ${what} for site ${m.site}${r.enrolled ? ` (enrolled agent ${m.agentId})` : ''}: now at revision ${r.revision}, ${r.changed.length} objects changed, ${r.blobs} artifacts cached, ${r.clusterKeys} clusters' CAs received\n`);
      if (r.clustersWithoutKeys) {
        process.stderr.write(`note: ${r.clustersWithoutKeys} of this site's clusters have no CAs here yet (the hub seals them only to this agent's encryption key, once it knows it): write a status bundle (outpost-agent bundle export-status --data ${o.data} -o status.json), record it at the hub (outpost bundle import-status status.json), and import the next bundle\n`);
      }
    });
  bundle
    .command('export-status')
    .description("write this agent's unacknowledged statuses and its revision, signed with its credential, for `outpost bundle import-status` at the hub")
    .requiredOption('--data <dir>', "the agent's data directory")
    .requiredOption('-o, --output <file>', 'the status bundle to write')
    .action((o: { data: string; output: string }) => {
      const e = exportStatus(o.data, o.output);
      process.stdout.write(`wrote ${e.statuses.length} statuses (up to seq ${e.lastSeq}) of agent ${e.agentId} at revision ${e.ackedRevision} to ${o.output}; import it at the hub with: outpost bundle import-status ${o.output}\n`);
    });
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
    if (err instanceof BundleRefused) {
      process.stderr.write(`error: bundle refused (${err.code}): ${err.message}\n`);
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
