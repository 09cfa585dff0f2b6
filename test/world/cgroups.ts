// The cgroup v1 hierarchies of this machine (only v1 controllers are mounted here): a seed's node gets
// one cgroup under every controller, and teardown finds and kills what runs in it before removing it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

function controllers(): string[] {
  return existsSync(ROOT) ? readdirSync(ROOT).filter((c) => c !== 'unified' && existsSync(join(ROOT, c, 'cgroup.procs'))) : [];
}

/** `name` under every controller; a new cpuset cgroup starts with no CPUs, so it gets its parent's. */
export function makeCgroup(name: string): void {
  for (const c of controllers()) {
    mkdirSync(join(ROOT, c, name), { recursive: true });
    if (c === 'cpuset') for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(ROOT, c, name, f), readFileSync(join(ROOT, c, f)));
  }
}

/** Every pid in the `name` subtree, under every controller. */
export function cgroupPids(name: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    let procs = '';
    try {
      procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
    } catch {
      // removed meanwhile
    }
    for (const line of procs.split('\n')) if (line) pids.add(Number(line));
  };
  for (const c of controllers()) walk(join(ROOT, c, name));
  return [...pids];
}

/** Removes the `name` subtree under every controller, deepest first; returns what is still busy. */
export function removeCgroup(name: string): string[] {
  const remove = (dir: string): string[] => {
    if (!existsSync(dir)) return [];
    const left: string[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) left.push(...remove(join(dir, e.name)));
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
    return left;
  };
  return controllers().flatMap((c) => remove(join(ROOT, c, name)));
}
