// Waiting on work that takes no AbortSignal of its own (client-node's calls, a download shared by several
// askers): the wait ends as soon as the signal fires, while the work itself goes on for whoever else waits.

/** `p`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
