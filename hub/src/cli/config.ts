// The CLI's config file: which hub, which token, which CA. Path from OUTPOST_CONFIG, else ~/.outpost/config.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';

export interface CliConfig {
  hub: string;
  token: string;
  caCert: string;
}

export function configPath(): string {
  return process.env.OUTPOST_CONFIG || join(homedir(), '.outpost', 'config');
}

export function readConfig(): CliConfig {
  const path = configPath();
  if (!existsSync(path)) throw new Error(`no CLI config at ${path}; run \`outpost login --hub URL --token-file FILE --ca-file FILE\` first`);
  const cfg = YAML.parse(readFileSync(path, 'utf8')) as Partial<CliConfig> | null;
  if (!cfg?.hub || !cfg.token || !cfg.caCert) throw new Error(`${path} lacks hub, token or caCert; run \`outpost login\` again`);
  return cfg as CliConfig;
}

export function writeConfig(cfg: CliConfig): string {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, YAML.stringify(cfg), { mode: 0o600 });
  return path;
}
