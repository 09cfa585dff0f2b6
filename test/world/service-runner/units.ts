// systemd unit files as a test host's supervisor reads them: the unit and its drop-ins merged in order,
// the settings a service needs (ExecStart with the empty-value reset rule, Environment, EnvironmentFile,
// Restart, ...), and ExecStart's command line split and expanded the way systemd does it. Pure functions,
// so the rules are unit-tested without a host.

export type Section = Array<[key: string, value: string]>;
/** A unit's sections, each its assignments in file order (a key may repeat: ExecStart=, Environment=). */
export type UnitFile = Map<string, Section>;

export type RestartPolicy = 'no' | 'always' | 'on-failure' | 'on-abnormal' | 'on-success';

export interface ExecCommand {
  argv: string[];
  /** `-` prefix: a failing exit status is not a failure. */
  ignoreFailure: boolean;
}

export interface ServiceUnit {
  name: string;
  description: string;
  /** The files it came from: the unit, then its drop-ins in the order they apply. */
  sources: string[];
  type: string;
  /** Unexpanded command lines (expanded at each start, with that start's environment). */
  execStart: string[];
  execStartPre: string[];
  /** `Environment=` assignments, in order. */
  environment: Record<string, string>;
  /** `EnvironmentFile=` paths; `optional` for a `-` prefix (a missing file is no error). */
  environmentFiles: Array<{ path: string; optional: boolean }>;
  restart: RestartPolicy;
  restartSecMs: number;
  killMode: 'control-group' | 'mixed' | 'process' | 'none';
  timeoutStopMs: number;
  /** Type=notify: how long a start may wait for READY=1. */
  timeoutStartMs: number;
  /** At most `startLimitBurst` starts within `startLimitIntervalMs` (0: no limit), as systemd's DefaultStartLimit*. */
  startLimitIntervalMs: number;
  startLimitBurst: number;
  workingDirectory: string;
  wantedBy: string[];
}

export class UnitError extends Error {}

/** Parses one unit file's text: sections, `Key=Value`, comments, backslash continuation lines. */
export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Section | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trim();
    // A line ending in a backslash goes on with the next one (systemd joins them with a space).
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1).trimEnd()} ${(lines[++i] ?? '').trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      section = unit.get(name) ?? [];
      unit.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !section) continue; // systemd ignores (and logs) such lines
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The unit followed by its drop-ins, as one file: later assignments come after earlier ones. */
export function mergeUnitFiles(files: readonly UnitFile[]): UnitFile {
  const merged: UnitFile = new Map();
  for (const f of files) for (const [name, entries] of f) merged.set(name, [...(merged.get(name) ?? []), ...entries]);
  return merged;
}

/**
 * Splits a command line (or an Environment= value) into words as systemd does: whitespace separates,
 * double and single quotes group, a backslash escapes the next character.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UnitError(`unbalanced ${quote} in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Expands variables in a split command line, as systemd does: a word that is exactly `$NAME` becomes the
 * variable's value split at whitespace (no words if unset or empty); `${NAME}` anywhere in a word becomes
 * its value as it is; `$$` is a `$`.
 */
export function expandCommand(words: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const w of words) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (whole) {
      out.push(...(env[whole[1] ?? ''] ?? '').split(/\s+/).filter(Boolean));
      continue;
    }
    out.push(w.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string | undefined) => (m === '$$' ? '$' : (env[name ?? ''] ?? ''))));
  }
  return out;
}

/** A command line's prefixes (`-`, `@`, `+`, `!`, `!!`, `:`) taken off; `:` turns off expansion. */
export function execCommand(line: string, env: Readonly<Record<string, string>>): ExecCommand {
  const m = /^([-@+!:]*)(.*)$/s.exec(line.trim());
  const prefix = m?.[1] ?? '';
  const words = splitWords(m?.[2] ?? '');
  const argv = prefix.includes(':') ? words : expandCommand(words, env);
  if (argv.length === 0) throw new UnitError(`empty command line: ${line}`);
  if (!argv[0]?.startsWith('/')) throw new UnitError(`the command must be an absolute path, not ${argv[0]} (systemd looks up only a few fixed directories; write the full path)`);
  return { argv, ignoreFailure: prefix.includes('-') };
}

/** An EnvironmentFile's assignments: `KEY=VALUE` lines, `#`/`;` comments, quotes around the value taken off. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      const q = value[0];
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, '$1');
    }
    env[key] = value;
  }
  return env;
}

/** "10", "10s", "100ms", "1min 30s": systemd's time spans (a bare number is seconds). */
export function parseTimespanMs(text: string): number {
  const units: Record<string, number> = { ms: 1, msec: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, hours: 3_600_000 };
  if (text.trim() === 'infinity') return Number.POSITIVE_INFINITY;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]*)/g)) {
    const factor = units[m[2] || 's'];
    if (factor === undefined) throw new UnitError(`unknown time unit "${m[2]}" in "${text}"`);
    total += Number(m[1]) * factor;
    matched += m[0];
  }
  if (matched.replace(/\s/g, '') !== text.replace(/\s/g, '') || matched === '') throw new UnitError(`not a time span: "${text}" (write e.g. 10s or 100ms)`);
  return total;
}

/** Every value of `key`, with an empty assignment dropping the ones before it (systemd's reset rule). */
function list(section: Section, key: string): string[] {
  const out: string[] = [];
  for (const [k, v] of section) {
    if (k !== key) continue;
    if (v === '') out.length = 0;
    else out.push(v);
  }
  return out;
}

function last(section: Section, key: string): string | undefined {
  let value: string | undefined;
  for (const [k, v] of section) if (k === key) value = v;
  return value;
}

const RESTART: readonly RestartPolicy[] = ['no', 'always', 'on-failure', 'on-abnormal', 'on-success'];
const KILL_MODES = ['control-group', 'mixed', 'process', 'none'] as const;

/** The service a merged unit describes; fails, as systemd refuses such a unit, on what it cannot run. */
export function serviceUnit(name: string, unit: UnitFile, sources: string[]): ServiceUnit {
  const service = unit.get('Service') ?? [];
  const type = last(service, 'Type') ?? 'simple';
  const execStart = list(service, 'ExecStart');
  if (execStart.length === 0) throw new UnitError(`${name} has no ExecStart= setting (or a drop-in cleared it with "ExecStart=" and set none after). Refusing.`);
  if (execStart.length > 1 && type !== 'oneshot') {
    throw new UnitError(`${name} has more than one ExecStart= setting, which is only allowed for Type=oneshot services: a drop-in that replaces the command must first clear it with an empty "ExecStart=". Refusing.`);
  }
  const environment: Record<string, string> = {};
  for (const value of list(service, 'Environment')) {
    for (const word of splitWords(value)) {
      const eq = word.indexOf('=');
      if (eq > 0) environment[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  const restart = (last(service, 'Restart') ?? 'no') as RestartPolicy;
  if (!RESTART.includes(restart)) throw new UnitError(`${name}: Restart=${restart} is not one of ${RESTART.join(', ')}`);
  const killMode = (last(service, 'KillMode') ?? 'control-group') as ServiceUnit['killMode'];
  if (!KILL_MODES.includes(killMode)) throw new UnitError(`${name}: KillMode=${killMode} is not one of ${KILL_MODES.join(', ')}`);
  // [Unit] StartLimitIntervalSec=, or the older StartLimitInterval= that kubeadm's kubelet.service still
  // writes in [Service]
  const unitSection = unit.get('Unit') ?? [];
  const limitInterval = last(unitSection, 'StartLimitIntervalSec') ?? last(unitSection, 'StartLimitInterval') ?? last(service, 'StartLimitInterval') ?? '10s';
  const limitBurst = Number(last(unitSection, 'StartLimitBurst') ?? last(service, 'StartLimitBurst') ?? '5');
  if (!Number.isInteger(limitBurst) || limitBurst < 0) throw new UnitError(`${name}: StartLimitBurst= must be a whole number`);
  return {
    name,
    description: last(unitSection, 'Description') ?? name,
    sources,
    type,
    execStart,
    execStartPre: list(service, 'ExecStartPre'),
    environment,
    environmentFiles: list(service, 'EnvironmentFile').map((p) => (p.startsWith('-') ? { path: p.slice(1), optional: true } : { path: p, optional: false })),
    restart,
    restartSecMs: parseTimespanMs(last(service, 'RestartSec') ?? '100ms'),
    killMode,
    timeoutStopMs: parseTimespanMs(last(service, 'TimeoutStopSec') ?? last(service, 'TimeoutSec') ?? '90s'),
    timeoutStartMs: parseTimespanMs(last(service, 'TimeoutStartSec') ?? last(service, 'TimeoutSec') ?? '90s'),
    startLimitIntervalMs: parseTimespanMs(limitInterval),
    startLimitBurst: limitBurst,
    workingDirectory: last(service, 'WorkingDirectory') ?? '/',
    wantedBy: list(unit.get('Install') ?? [], 'WantedBy').flatMap((v) => v.split(/\s+/)),
  };
}

/** Whether a main process that ended so should be started again under `policy`. */
export function shouldRestart(policy: RestartPolicy, exit: { code: number | null; signal: string | null }): boolean {
  const clean = exit.code === 0 || (exit.signal !== null && ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'].includes(exit.signal));
  switch (policy) {
    case 'always':
      return true;
    case 'on-failure':
      return !clean;
    case 'on-abnormal':
      return exit.signal !== null && !clean;
    case 'on-success':
      return clean;
    case 'no':
      return false;
  }
}
