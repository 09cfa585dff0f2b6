// What /proc says about the bench's processes: memory, CPU time and descriptors, per process or summed
// over a process tree (a hub and its gateway processes).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { processTree } from '../../lib/processes.js';

/** RSS and CPU time summed over a process tree. */
export function treeStat(pid: number): { rssBytes: number; cpuTicks: number } {
  const sum = { rssBytes: 0, cpuTicks: 0 };
  for (const p of processTree(pid)) {
    try {
      const s = procStat(p);
      sum.rssBytes += s.rssBytes;
      sum.cpuTicks += s.cpuTicks;
    } catch {
      // exited between listing and reading
    }
  }
  return sum;
}

export function sizeMiB(path: string): number {
  try {
    return Math.round(statSync(path).size / 2 ** 20);
  } catch {
    return 0;
  }
}

/** Open descriptors of one process (a gateway process's are nearly all agent sockets). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export function procStat(pid: number): { rssBytes: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssBytes: rssKb * 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}
