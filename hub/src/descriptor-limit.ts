// The process's descriptor limit (`ulimit -n`, the soft RLIMIT_NOFILE), which the connection limits'
// defaults are derived from. Node has no getrlimit; Linux shows it in /proc/self/limits.
import { readFileSync } from 'node:fs';

/** The soft "Max open files" of /proc/self/limits' text, or undefined when it has none (or "unlimited"). */
export function parseDescriptorLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+)\s/m.exec(limits);
  return m ? Number(m[1]) : undefined;
}

/** Where /proc is missing (macOS), the most common default soft limit is assumed. */
export const ASSUMED_DESCRIPTOR_LIMIT = 1024;

export function descriptorLimit(): number {
  try {
    return parseDescriptorLimit(readFileSync('/proc/self/limits', 'utf8')) ?? ASSUMED_DESCRIPTOR_LIMIT;
  } catch {
    return ASSUMED_DESCRIPTOR_LIMIT;
  }
}
