// Why an SSH attempt on a host failed, in words an operator can act on, and whether trying the same step
// again may help: a dropped or refused connection may (KubeOne #2319: a drop must not abort the whole
// install), a host key that is not the pinned one never does, and nothing is run on such a host.

export type SshFailure =
  /** The Host pins no key: the agent does not know whom it would talk to. */
  | 'HostKeyUnknown'
  /** The host (or bastion) presented a key other than the pinned one. */
  | 'HostKeyChanged'
  /** No TCP connection, or no SSH handshake, within the time. */
  | 'Unreachable'
  /** The host refused the agent's key for the user. */
  | 'AuthFailed'
  /** The connection went away while a command or upload was running. */
  | 'Dropped'
  /** A command ran longer than its step allows. */
  | 'Timeout';

const RETRYABLE: ReadonlySet<SshFailure> = new Set(['Unreachable', 'Dropped', 'Timeout']);

export class SshError extends Error {
  override readonly name = 'SshError';
  constructor(
    readonly failure: SshFailure,
    /** The Host's name, for messages and lastErrors. */
    readonly host: string,
    message: string,
    /** For HostKeyUnknown and HostKeyChanged: the fingerprint the host presented ("SHA256:..."). */
    readonly presentedKey?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether running the same step again may succeed without anyone changing anything. */
  get retryable(): boolean {
    return RETRYABLE.has(this.failure);
  }
}

/** A command that ran and exited non-zero (or by a signal): it reached the host; its output says why. */
export class RemoteCommandFailed extends Error {
  override readonly name = 'RemoteCommandFailed';
  constructor(
    readonly host: string,
    readonly command: string,
    readonly code: number | null,
    readonly signal: string | undefined,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join(' | ');
    super(`on ${host}: \`${command.length > 120 ? `${command.slice(0, 117)}...` : command}\` ${signal ? `was killed by ${signal}` : `exited ${code}`}${tail ? `: ${tail}` : ''}`);
  }
}
