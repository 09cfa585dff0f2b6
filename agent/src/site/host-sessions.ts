// One SSH connection per Host for the length of a flow run, made again when it dropped: a step that
// failed on a drop (KubeOne #2319) retries on a fresh connection, and only that step runs again.
import type { SshTarget } from './ssh/ssh-session.js';
import { SshSession } from './ssh/ssh-session.js';

export class HostSessions {
  private readonly open = new Map<string, Promise<SshSession>>();

  constructor(private readonly o: { privateKey: string; connectTimeoutMs?: number }) {}

  /** The host's connection, connected now if it has none or the last one dropped. */
  async get(target: SshTarget, signal?: AbortSignal): Promise<SshSession> {
    const existing = this.open.get(target.host);
    if (existing) {
      const s = await existing.catch(() => undefined);
      if (s && !s.closed) return s;
    }
    const connecting = SshSession.connect(target, { privateKey: this.o.privateKey, readyTimeoutMs: this.o.connectTimeoutMs ?? 15_000, ...(signal ? { signal } : {}) });
    this.open.set(target.host, connecting);
    // A failed connect is forgotten, unless a newer one has taken its place meanwhile.
    connecting.catch(() => this.open.get(target.host) === connecting && this.open.delete(target.host));
    return connecting;
  }

  closeAll(): void {
    for (const s of this.open.values()) void s.then((x) => x.close(), () => undefined);
    this.open.clear();
  }
}
