// What a test host's supervisor (supervisor.ts) and those who start it or talk to it share: its
// configuration file, its name in /proc, and the answer it gives systemctl.ts for one invocation.
// (supervisor.ts itself is a program: importing it would start one.)

export interface SupervisorConfig {
  /** The unix socket systemctl talks to. */
  socket: string;
  /** Where each service's output goes (`<unit>.log`), and the supervisor's own (`supervisor.log`). */
  journalDir: string;
  /** Unit search path, first wins (systemd's /etc/systemd/system, /run/systemd/system). */
  unitDirs: string[];
  /** The cgroup v1 mount root as the host sees it; services go to `<root>/<controller>/system.slice/<unit>`. */
  cgroupRoot: string;
  pidFile: string;
  /** Where Type=notify services find their $NOTIFY_SOCKET (one socket per unit). */
  notifyDir: string;
}

/** The supervisor's name in /proc/PID/comm, which the world's state checks before it kills a recorded pid. */
export const SUPERVISOR_COMM = 'op-supervisor';

/** The answer to one `{argv}` request: what to print on stdout and stderr, and the exit code. */
export interface Reply {
  out: string;
  err: string;
  code: number;
}
