// The CLI's config file: the hubs it knows as named contexts (hub, token, CA), and which one is current,
// as kubectl's kubeconfig has them. Path from OUTPOST_CONFIG, else ~/.outpost/config. A file of the old
// single-hub shape ({hub, token, caCert}) reads as one context named "default", and is rewritten in the
// new shape only when something changes it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';

/** One hub the CLI can talk to. */
export interface CliConfig {
  hub: string;
  token: string;
  caCert: string;
}

export interface CliContext extends CliConfig {
  name: string;
}

export interface CliConfigFile {
  currentContext: string;
  contexts: CliContext[];
}

/** The name an old single-hub config's one context gets. */
export const LEGACY_CONTEXT = 'default';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function configPath(): string {
  return process.env.OUTPOST_CONFIG || join(homedir(), '.outpost', 'config');
}

function complete<T extends Partial<CliConfig>>(c: T | null | undefined): c is T & CliConfig {
  return typeof c?.hub === 'string' && typeof c.token === 'string' && typeof c.caCert === 'string' && !!c.hub && !!c.token && !!c.caCert;
}

/** The contexts a config file's text holds, in either shape; `path` names it in errors. */
export function parseConfig(text: string, path: string): CliConfigFile {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not YAML (${(err as Error).message}); fix it, or move it away and run \`outpost login\` again`);
  }
  if (raw === null || raw === undefined) return { currentContext: '', contexts: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path} is not a config (a mapping of contexts); move it away and run \`outpost login\` again`);
  const o = raw as { contexts?: unknown; 'current-context'?: unknown } & Partial<CliConfig>;
  if (o.contexts === undefined && o.hub !== undefined) {
    if (!complete(o)) throw new ConfigError(`${path} lacks hub, token or caCert; run \`outpost login\` again`);
    return { currentContext: LEGACY_CONTEXT, contexts: [{ name: LEGACY_CONTEXT, hub: o.hub, token: o.token, caCert: o.caCert }] };
  }
  if (!Array.isArray(o.contexts)) throw new ConfigError(`${path}: contexts is not a list; move the file away and run \`outpost login\` again`);
  const contexts = o.contexts.map((c: unknown, i): CliContext => {
    const ctx = c as Partial<CliContext> | null;
    if (typeof ctx?.name !== 'string' || !ctx.name || !complete(ctx)) throw new ConfigError(`${path}: context ${i + 1} lacks name, hub, token or caCert; run \`outpost login --hub URL --token-file FILE --ca-file FILE --name NAME\` again for it`);
    return { name: ctx.name, hub: ctx.hub, token: ctx.token, caCert: ctx.caCert };
  });
  const current = typeof o['current-context'] === 'string' ? o['current-context'] : '';
  return { currentContext: current, contexts };
}

export function stringifyConfig(cfg: CliConfigFile): string {
  return YAML.stringify({ 'current-context': cfg.currentContext, contexts: cfg.contexts });
}

/** The config file, or one with no contexts when there is none yet. */
export function readConfigFile(): CliConfigFile {
  const path = configPath();
  if (!existsSync(path)) return { currentContext: '', contexts: [] };
  return parseConfig(readFileSync(path, 'utf8'), path);
}

export function writeConfigFile(cfg: CliConfigFile): string {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, stringifyConfig(cfg), { mode: 0o600 });
  return path;
}

/** The context named, or the current one: what a command talks to. */
export function selectContext(cfg: CliConfigFile, name: string | undefined, path = configPath()): CliContext {
  if (cfg.contexts.length === 0) throw new ConfigError(`no CLI config at ${path}; run \`outpost login --hub URL --token-file FILE --ca-file FILE\` first`);
  const wanted = name ?? cfg.currentContext;
  const known = cfg.contexts.map((c) => c.name).join(', ');
  if (!wanted) throw new ConfigError(`${path} names no current context; choose one with \`outpost config use-context NAME\` (known: ${known}) or pass --context NAME`);
  const ctx = cfg.contexts.find((c) => c.name === wanted);
  if (!ctx) throw new ConfigError(`no context "${wanted}" in ${path}; known contexts: ${known}${name === undefined ? ' (choose one with `outpost config use-context NAME`)' : ''}`);
  return ctx;
}

/** The config with `ctx` added or replaced (by name), and made current. */
export function withContext(cfg: CliConfigFile, ctx: CliContext): CliConfigFile {
  const others = cfg.contexts.filter((c) => c.name !== ctx.name);
  const at = cfg.contexts.findIndex((c) => c.name === ctx.name);
  const contexts = at < 0 ? [...others, ctx] : [...others.slice(0, at), ctx, ...others.slice(at)];
  return { currentContext: ctx.name, contexts };
}

/** The hub, token and CA of the context named, or of the current one. */
export function readConfig(context?: string): CliContext {
  return selectContext(readConfigFile(), context);
}
