// How many artifact uploads the site agent runs at once, over every cluster and host it provisions. Each
// upload in flight holds up to the host's SSH window (2 MiB) and, faster than the GC frees them, ssh2's
// encrypted packets: measured with SshSession.writeFile to a loopback sshd, one upload at a time added
// 29 MB to the agent's RSS and three at once 50 MB. Running them one after another costs little where it
// matters: every upload is encrypted on the agent's one thread and leaves by its one link.
export const DEFAULT_UPLOAD_SLOTS = 1;

export class UploadSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number = DEFAULT_UPLOAD_SLOTS) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`upload slots must be a whole number of at least 1, not ${limit}`);
  }

  /** Runs `task` once a slot is free (first come, first served); a `signal` aborted while waiting gives the place up. */
  async run<T>(signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** Uploads running and waiting now. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
