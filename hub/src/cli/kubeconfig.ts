// `outpost kubeconfig --hub`: a kubeconfig for the hub's own admin API, from what `outpost login` saved
// (hub URL, CA, API token of the current context or --context), so stock kubectl can apply, get, watch,
// explain and wait on Outpost resources. `outpost kubeconfig CLUSTER -n PROJECT`: an admin kubeconfig for
// a user cluster, its client certificate signed by the hub for this request and expiring soon.
import { chmodSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ApiClient } from '../client/api-client.js';
import { API_PREFIX } from '../api/resource-path.js';
import { parseDuration } from '../duration.js';
// A type only, erased at build: the CLI loads nothing of the server (cli-client-only.test.ts).
import type { AdminKubeconfig } from '../pki/cluster-pki.js';
import { readConfig, type CliConfig } from './config.js';
import { UsageError } from './usage.js';

export interface HubKubeconfigOptions {
  /** The name of the cluster, user and context entries. Default "outpost-<host>" (the command: "outpost-<context>"). */
  name?: string;
  /** metadata.namespace kubectl uses without -n: a project. Default none (kubectl's "default", which is no project). */
  project?: string;
}

/** The kubeconfig text for `cfg`'s hub: the URL, the hub CA inline, the login's API token. */
export function hubKubeconfig(cfg: CliConfig, opts: HubKubeconfigOptions = {}): string {
  const url = new URL(cfg.hub);
  const name = opts.name || `outpost-${url.hostname.replace(/[[\]]/g, '')}`;
  // The token is the login's: kubectl acts with exactly its role, as `outpost` itself does.
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url.origin, 'certificate-authority-data': Buffer.from(cfg.caCert).toString('base64') } }],
    users: [{ name, user: { token: cfg.token } }],
    contexts: [{ name, context: { cluster: name, user: name, ...(opts.project ? { namespace: opts.project } : {}) } }],
    'current-context': name,
  });
}

/** --expiration as the API's expirationSeconds; the hub checks the bounds (10m to 24h) and says so. */
export function expirationSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`--expiration ${value} is not a duration; write it as 30m, 1h or 24h`);
  return ms / 1000;
}

/** The path of a Cluster's kubeconfig subresource. */
export function clusterKubeconfigPath(project: string, cluster: string): string {
  return `${API_PREFIX}/namespaces/${encodeURIComponent(project)}/clusters/${encodeURIComponent(cluster)}/kubeconfig`;
}

interface KubeconfigFlags {
  hub?: true;
  name?: string;
  namespace?: string;
  output?: string;
  expiration?: string;
}

/** Writes a kubeconfig to stdout, or to a file only its owner may read (it holds a credential). */
function emit(text: string, output: string | undefined, what: string): void {
  if (!output) {
    process.stdout.write(text);
    return;
  }
  writeFileSync(output, text, { mode: 0o600 });
  chmodSync(output, 0o600); // the mode above applies only to a file that did not exist
  process.stderr.write(`kubeconfig for ${what} written to ${output}; use it with: export KUBECONFIG=${output}\n`);
}

/** Adds `outpost kubeconfig` to the program. */
export function registerKubeconfig(program: Command): void {
  program
    .command('kubeconfig [cluster]')
    .description("print a kubeconfig for kubectl: for CLUSTER (-n PROJECT), an admin kubeconfig the hub signs now, expiring after --expiration; with --hub, for the hub's own API (Outpost resources), from the `outpost login` config")
    .option('--hub', "for the hub's own API, with the logged-in hub, CA and API token")
    .option('--name <name>', 'with --hub: name of the cluster, user and context entries (default outpost-CONTEXT)')
    .option('-n, --namespace <project>', "CLUSTER's project; with --hub, the project kubectl uses when no -n is given")
    .option('--expiration <duration>', "CLUSTER's kubeconfig expires after this, from 10m to 24h (default 1h)")
    .option('-o, --output <file>', 'write it to FILE, readable by you only (it holds a credential), instead of stdout')
    .action(async (cluster: string | undefined, o: KubeconfigFlags) => {
      // The context of --context (a global option), else the current one, as every command talks to.
      const ctx = readConfig(program.opts<{ context?: string }>().context);
      if (o.hub) {
        if (cluster !== undefined) throw new UsageError(`--hub is for the hub's own API; for cluster ${cluster} leave out --hub`);
        if (o.expiration !== undefined) throw new UsageError("--expiration is for a cluster's kubeconfig; --hub's carries your API token, which expires as the token does");
        emit(hubKubeconfig(ctx, { name: o.name ?? `outpost-${ctx.name}`, project: o.namespace }), o.output, 'the hub');
        return;
      }
      if (cluster === undefined) throw new UsageError('name a cluster (outpost kubeconfig CLUSTER -n PROJECT), or give --hub for the hub\'s own API');
      if (!o.namespace) throw new UsageError(`clusters are in projects: outpost kubeconfig ${cluster} -n PROJECT`);
      if (o.name !== undefined) throw new UsageError('--name is for --hub; a cluster\'s entries are named outpost-PROJECT-CLUSTER');
      const api = new ApiClient({ hub: ctx.hub, token: ctx.token, caCertPem: ctx.caCert });
      const seconds = expirationSeconds(o.expiration);
      const answer = await api.call<AdminKubeconfig>('POST', clusterKubeconfigPath(o.namespace, cluster), seconds === undefined ? {} : { expirationSeconds: seconds });
      emit(answer.kubeconfig, o.output, `cluster ${cluster} (expires ${answer.expirationTimestamp})`);
      if (!o.output) process.stderr.write(`this kubeconfig expires at ${answer.expirationTimestamp}\n`);
    });
}
