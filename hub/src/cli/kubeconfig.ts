// `outpost kubeconfig --hub`: a kubeconfig for the hub's own admin API, from what `outpost login` saved
// (hub URL, CA, API token of the current context or --context), so stock kubectl can apply, get, watch,
// explain and wait on Outpost resources.
import { chmodSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { readConfig, type CliConfig } from './config.js';

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

/** Adds `outpost kubeconfig` to the program. */
export function registerKubeconfig(program: Command): void {
  program
    .command('kubeconfig')
    .description("print a kubeconfig for kubectl: with --hub, for the hub's own API (Outpost resources), from the `outpost login` config")
    .requiredOption('--hub', "for the hub's own API, with the logged-in hub, CA and API token")
    .option('--name <name>', 'name of the cluster, user and context entries (default outpost-CONTEXT)')
    .option('-n, --namespace <project>', 'project kubectl uses when no -n is given')
    .option('-o, --output <file>', 'write it to FILE, readable by you only (it holds your API token), instead of stdout')
    .action((o: { hub: true; name?: string; namespace?: string; output?: string }) => {
      // The context of --context (a global option), else the current one, as every command talks to.
      const ctx = readConfig(program.opts<{ context?: string }>().context);
      const text = hubKubeconfig(ctx, { name: o.name ?? `outpost-${ctx.name}`, project: o.namespace });
      if (!o.output) {
        process.stdout.write(text);
        return;
      }
      writeFileSync(o.output, text, { mode: 0o600 });
      chmodSync(o.output, 0o600); // the mode above applies only to a file that did not exist
      process.stderr.write(`kubeconfig for the hub written to ${o.output}; use it with: export KUBECONFIG=${o.output}\n`);
    });
}
