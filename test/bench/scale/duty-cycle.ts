// Starves processes of CPU from outside, as cpulimit does: SIGSTOP, then SIGCONT for `runMs` of every
// `periodMs`. The storm test uses it on the hub's gateway processes to provoke the overload a 100,000-
// agent storm causes on two cores, with a few thousand agents. The shipped hub knows nothing of it.
// `pids` is asked again every period: a hub killed and restarted has new processes.
export function dutyCycle(pids: () => number[], runMs: number, periodMs: number): { stop(): void } {
  let stopped: number[] = [];
  const signal = (list: number[], sig: NodeJS.Signals): void => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone (killed by the test, or exited): nothing to throttle
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const pause = (): void => {
    if (!running) return;
    stopped = pids();
    signal(stopped, 'SIGSTOP');
    timer = setTimeout(resume, periodMs - runMs);
  };
  const resume = (): void => {
    signal(stopped, 'SIGCONT');
    stopped = [];
    if (running) timer = setTimeout(pause, runMs);
  };
  timer = setTimeout(pause, runMs);
  return {
    stop: () => {
      running = false;
      if (timer) clearTimeout(timer);
      signal(stopped, 'SIGCONT');
      stopped = [];
    },
  };
}
