// What /proc says about the bench's processes: memory, CPU time and descriptors, per process or summed
// over a process tree (a hub and its gateway processes).
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
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

/**
 * TCP connections process `pid` holds on local port `port` (accepted ones, not its listening socket nor
 * the unix sockets it opens itself): its socket descriptors matched to /proc/net/tcp{,6} by inode.
 */
export function heldConnections(pid: number, port: number): number {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed between listing and reading
      }
    }
  } catch {
    return 0;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] !== '0A' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

export function procStat(pid: number): { rssBytes: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssBytes: rssKb * 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}
