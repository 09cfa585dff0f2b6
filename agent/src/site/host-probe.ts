// What the site agent learns of a Host before it installs anything on it (KubeOne's preflight): OS,
// architecture, cgroup version, swap, the ports Kubernetes needs, clock skew against the agent, and
// whether a kubelet or container runtime is there already. One script, one round trip; parsing is pure.

/**
 * Prints `key=value` lines. Read-only and POSIX sh: it runs before Outpost has put anything on the host.
 * `ss` may be missing on a minimal host; then `ports=?` and the ports are checked again by kubeadm.
 */
export const PROBE_SCRIPT = [
  `. /etc/os-release 2>/dev/null; echo "os=\${ID:-unknown}"; echo "osVersion=\${VERSION_ID:-}"`,
  'echo "arch=$(uname -m)"',
  'echo "kernel=$(uname -r)"',
  'echo "cgroupFs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)"',
  `echo "swapDevices=$(tail -n +2 /proc/swaps 2>/dev/null | wc -l)"`,
  `if command -v ss >/dev/null 2>&1; then echo "ports=$(ss -Hltn 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -un | tr '\\n' ,)"; else echo "ports=?"; fi`,
  'echo "kubelet=$(command -v kubelet || true)"',
  'echo "kubeletRunning=$(pgrep -x kubelet >/dev/null 2>&1 && echo yes || echo no)"',
  'echo "kubeletConf=$(test -e /etc/kubernetes/kubelet.conf && echo yes || echo no)"',
  'echo "containerd=$(command -v containerd || true)"',
  `echo "capEff=$(awk '/^CapEff/ {print $2}' /proc/self/status 2>/dev/null)"`,
  'echo "now=$(date +%s.%N)"',
].join('\n');

/** The ports a control-plane node listens on (apiserver, etcd, kubelet, controller-manager, scheduler). */
export const CONTROL_PLANE_PORTS = [6443, 2379, 2380, 10250, 10257, 10259] as const;
/** A worker's: kubelet. */
export const WORKER_PORTS = [10250] as const;

export interface HostFacts {
  os: string;
  osVersion: string;
  /** Go's name for it, as Release artifacts' platforms say: amd64, arm64, ... */
  arch: string;
  kernel: string;
  cgroupVersion: 1 | 2;
  swapOn: boolean;
  /** TCP ports something listens on; undefined when the host could not say (no `ss`). */
  listening: number[] | undefined;
  kubelet: { path: string; running: boolean; joined: boolean };
  containerd: string;
  /** Host clock minus agent clock, in seconds (half the round trip allowed for). */
  clockSkewSeconds: number;
  /**
   * Whether root there holds CAP_SYS_RESOURCE, which lowering a process's oom_score_adj needs: a host that
   * is itself a container (LXC, a test world) may lack it, and then kubelet and containerd must not try.
   */
  canLowerOomScore: boolean;
}

export class ProbeParseError extends Error {
  override readonly name = 'ProbeParseError';
}

const CAP_SYS_RESOURCE = 24;

/** Whether the hex capability mask (/proc/PID/status CapEff) holds capability `bit`; an unreadable mask is taken as full root. */
function hasCapability(mask: string | undefined, bit: number): boolean {
  if (!mask || !/^[0-9a-f]+$/i.test(mask)) return true;
  return ((BigInt(`0x${mask}`) >> BigInt(bit)) & 1n) === 1n;
}

const GO_ARCH: Readonly<Record<string, string>> = { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * Facts from the probe's output. `sentAtMs` and `receivedAtMs` are the agent's clock around the command:
 * the host's `now` is taken to be the midpoint, so a slow link does not read as skew.
 */
export function parseProbe(output: string, sentAtMs: number, receivedAtMs: number): HostFacts {
  const kv = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const need = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined) throw new ProbeParseError(`the host's probe did not say ${k} (is /bin/sh a POSIX shell?); it printed: ${output.slice(0, 200)}`);
    return v;
  };
  const machine = need('arch');
  const hostNow = Number(need('now'));
  if (!Number.isFinite(hostNow)) throw new ProbeParseError(`the host's clock answered "${kv.get('now')}", not seconds since the epoch`);
  const ports = need('ports');
  return {
    os: need('os'),
    osVersion: kv.get('osVersion') ?? '',
    arch: GO_ARCH[machine] ?? machine,
    kernel: kv.get('kernel') ?? '',
    cgroupVersion: need('cgroupFs') === 'cgroup2fs' ? 2 : 1,
    swapOn: Number(need('swapDevices')) > 0,
    listening: ports === '?' ? undefined : ports.split(',').filter(Boolean).map(Number).filter(Number.isInteger),
    kubelet: { path: kv.get('kubelet') ?? '', running: kv.get('kubeletRunning') === 'yes', joined: kv.get('kubeletConf') === 'yes' },
    containerd: kv.get('containerd') ?? '',
    clockSkewSeconds: Math.round((hostNow - (sentAtMs + receivedAtMs) / 2000) * 100) / 100,
    canLowerOomScore: hasCapability(kv.get('capEff'), CAP_SYS_RESOURCE),
  };
}

/** Clocks further apart than this break certificates and etcd leases: refuse to provision. */
export const MAX_CLOCK_SKEW_SECONDS = 30;

/** One line for a condition message: what the host is. */
export function describeFacts(f: HostFacts): string {
  const kubelet = f.kubelet.path ? `kubelet at ${f.kubelet.path}${f.kubelet.running ? ' (running)' : ''}${f.kubelet.joined ? ', already joined to a cluster' : ''}` : 'no kubelet';
  const skew = `${f.clockSkewSeconds >= 0 ? '+' : ''}${f.clockSkewSeconds.toFixed(2)} s`;
  return `${f.os}${f.osVersion ? ` ${f.osVersion}` : ''}, linux/${f.arch}, kernel ${f.kernel}, cgroup v${f.cgroupVersion}, swap ${f.swapOn ? 'on' : 'off'}, clock skew ${skew}, ${kubelet}${f.canLowerOomScore ? '' : ', no CAP_SYS_RESOURCE (a container?)'}`;
}

/**
 * What stops Outpost from provisioning the host at all, each with what to do. Ports in use are judged by
 * the role the host is given, so they are the Cluster flow's to check (portsInUse), not this list's.
 */
export function preflightProblems(f: HostFacts): string[] {
  const out: string[] = [];
  if (Math.abs(f.clockSkewSeconds) > MAX_CLOCK_SKEW_SECONDS) out.push(`its clock is ${f.clockSkewSeconds.toFixed(1)} s off the agent's (at most ${MAX_CLOCK_SKEW_SECONDS} s): certificates would not be valid there yet or any more; run an NTP client on the host`);
  if (!['amd64', 'arm64'].includes(f.arch)) out.push(`its architecture ${f.arch} is not one Outpost installs (amd64, arm64)`);
  return out;
}

/** Of `ports`, those something already listens on (a kubelet of another cluster, a stray apiserver). */
export function portsInUse(f: HostFacts, ports: readonly number[]): number[] {
  return f.listening ? ports.filter((p) => f.listening!.includes(p)) : [];
}
