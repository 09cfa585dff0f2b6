// One SSH connection from the site agent to a Host (through its bastion, where it has one), with the host
// key checked against the Host's pin before anything is sent: an unknown or changed key ends the attempt
// with nothing run. Commands run as the Host's sshUser, under `sudo -n` when that is not root.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import { RemoteCommandFailed, SshError } from './ssh-errors.js';
import { shQuote } from './shell-quote.js';

export interface SshEndpoint {
  address: string;
  port: number;
  user: string;
  /** The pinned host key fingerprint, "SHA256:<base64>"; empty means none is pinned (refused). */
  hostKey: string;
}

export interface SshTarget extends SshEndpoint {
  /** The Host's name: messages, lastErrors. */
  host: string;
  bastion?: SshEndpoint;
}

export interface CommandResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** The command is abandoned (its channel closed) after this long: Timeout. Default 10 minutes. */
  timeoutMs?: number;
  /** Sent to the command's stdin, then EOF. */
  stdin?: string | Buffer | Readable;
}

export interface ConnectOptions {
  /** The agent's OpenSSH private key. */
  privateKey: string;
  /** TCP connect plus SSH handshake. Default 15 s. */
  readyTimeoutMs?: number;
  /** Keepalive every this long; three unanswered close the connection (a half-open socket is found). Default 10 s. */
  keepaliveMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60_000;

/** "SHA256:<base64 without padding>", as `ssh-keygen -l -E sha256` prints it, of a raw public key blob. */
export function fingerprintOf(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The pin in a Host's spec, with or without the base64 padding some tools print. */
function samePin(pinned: string, presented: string): boolean {
  return pinned.replace(/=+$/, '') === presented;
}

interface Handshake {
  client: ssh2.Client;
}

/** Connects one endpoint (over `sock` for a hop behind a bastion); the key is checked before auth. */
function handshake(name: string, role: 'host' | 'bastion', ep: SshEndpoint, opts: ConnectOptions, sock?: ClientChannel): Promise<Handshake> {
  const where = role === 'host' ? `host ${name} (${ep.address}:${ep.port})` : `the bastion ${ep.address}:${ep.port} of host ${name}`;
  // With no pin the handshake still runs up to the key, so the error can say what the host presented for
  // an operator to check and pin; the verifier refuses it, so nothing is authenticated or run.
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let presented: string | undefined;
    let settled = false;
    const fail = (err: SshError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    const onAbort = (): void => fail(new SshError('Unreachable', name, `connecting to ${where} was cancelled`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client
      .once('ready', () => {
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        resolve({ client });
      })
      .on('error', (err: Error & { level?: string; code?: string }) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (presented !== undefined && !samePin(ep.hostKey, presented)) {
          const pinField = role === 'host' ? 'spec.hostKey' : 'spec.bastion.hostKey';
          if (!ep.hostKey) {
            return fail(new SshError('HostKeyUnknown', name, `${where} presented host key ${presented}, and the Host pins none; nothing was run. If that is the host's key (check on its console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), set ${pinField}: ${presented}`, presented));
          }
          return fail(new SshError('HostKeyChanged', name, `${where} presented host key ${presented}, not the pinned ${ep.hostKey}; nothing was run. The host may have been reinstalled, or this is not the host: check it, then set ${pinField} to the new key only if it is right`, presented));
        }
        if (err.level === 'client-authentication') {
          return fail(new SshError('AuthFailed', name, `${where} refused the agent's SSH key for user ${ep.user}: add the line \`outpost-agent ssh-key\` prints to ~${ep.user}/.ssh/authorized_keys there`, undefined, { cause: err }));
        }
        if (settled) return;
        fail(new SshError('Unreachable', name, `cannot reach ${where}: ${err.message}${err.level === 'client-timeout' ? ' (no SSH handshake in time)' : ''}`, undefined, { cause: err }));
      })
      .once('close', () => fail(new SshError('Unreachable', name, `${where} closed the connection during the handshake`)));
    const config: ConnectConfig = {
      username: ep.user,
      privateKey: opts.privateKey,
      readyTimeout: opts.readyTimeoutMs ?? 15_000,
      keepaliveInterval: opts.keepaliveMs ?? 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        return !!ep.hostKey && samePin(ep.hostKey, presented);
      },
      ...(sock ? { sock } : { host: ep.address, port: ep.port }),
    };
    client.connect(config);
  });
}

export class SshSession {
  private dropped: SshError | undefined;

  private constructor(
    readonly target: SshTarget,
    private readonly client: ssh2.Client,
    private readonly bastion: ssh2.Client | undefined,
  ) {
    const onGone = (): void => {
      this.dropped ??= new SshError('Dropped', target.host, `the SSH connection to ${target.host} (${target.address}) dropped`);
    };
    client.on('close', onGone).on('error', onGone);
    bastion?.on('close', onGone).on('error', onGone);
  }

  static async connect(target: SshTarget, opts: ConnectOptions): Promise<SshSession> {
    if (!target.bastion) return new SshSession(target, (await handshake(target.host, 'host', target, opts)).client, undefined);
    const hop = (await handshake(target.host, 'bastion', target.bastion, opts)).client;
    try {
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        hop.forwardOut('127.0.0.1', 0, target.address, target.port, (err, ch) => (err ? reject(new SshError('Unreachable', target.host, `the bastion ${target.bastion!.address} could not reach host ${target.host} at ${target.address}:${target.port}: ${err.message}`, undefined, { cause: err })) : resolve(ch))),
      );
      return new SshSession(target, (await handshake(target.host, 'host', target, opts, channel)).client, hop);
    } catch (err) {
      hop.end();
      throw err;
    }
  }

  /** Whether the connection is gone (the next command would fail as Dropped). */
  get closed(): boolean {
    return this.dropped !== undefined;
  }

  /** `command` as the Host's user would type it, wrapped in `sudo -n sh -c` when that user is not root. */
  private asRoot(command: string): string {
    return this.target.user === 'root' ? command : `sudo -n sh -c ${shQuote(command)}`;
  }

  /** Runs `command` (a shell line: quote its arguments with shQuote) and returns how it ended. */
  exec(command: string, opts: RunOptions = {}): Promise<CommandResult> {
    if (this.dropped) return Promise.reject(this.dropped);
    const host = this.target.host;
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let finished = false;
      let channel: ClientChannel | undefined;
      const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      const end = (err: Error | undefined, result?: CommandResult): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.client.removeListener('close', onClose);
        if (err) {
          channel?.close();
          reject(err);
        } else resolve(result!);
      };
      const timer = setTimeout(() => end(new SshError('Timeout', host, `on ${host}: \`${command.slice(0, 120)}\` ran longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const onAbort = (): void => end(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      const onClose = (): void => end(this.dropped ?? new SshError('Dropped', host, `the SSH connection to ${host} dropped while \`${command.slice(0, 120)}\` ran`));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.client.once('close', onClose);
      this.client.exec(this.asRoot(command), (err, ch) => {
        if (err) return end(this.dropped ?? new SshError('Dropped', host, `could not start a command on ${host}: ${err.message}`, undefined, { cause: err }));
        channel = ch;
        let code: number | null = null;
        let signal: string | undefined;
        ch.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        ch.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s ?? undefined;
        });
        // 'close' comes after every byte of output; a channel closed without 'exit' was cut off.
        ch.on('close', () => {
          if (code === null && signal === undefined) return end(this.dropped ?? new SshError('Dropped', host, `the command \`${command.slice(0, 120)}\` on ${host} ended without an exit status (connection cut?)`));
          end(undefined, { code, signal, stdout, stderr });
        });
        const input = opts.stdin;
        if (input === undefined) ch.end();
        else if (typeof input === 'string' || Buffer.isBuffer(input)) ch.end(input);
        else {
          input.on('error', (e: Error) => end(e));
          input.pipe(ch);
        }
      });
    });
  }

  /** Runs `command`; a non-zero exit is a RemoteCommandFailed carrying its stderr. Returns stdout. */
  async run(command: string, opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) throw new RemoteCommandFailed(this.target.host, command, r.code, r.signal, r.stderr);
    return r.stdout;
  }

  /**
   * Writes `source` (bytes, or a local file's path) to `remotePath` with `mode`, whole or not at all: into
   * a temporary file beside it, renamed over the target once complete, so a drop never leaves half a binary.
   */
  async writeFile(remotePath: string, source: { bytes: string | Buffer } | { localPath: string }, mode: number, opts: Omit<RunOptions, 'stdin'> = {}): Promise<void> {
    const temp = `${remotePath}.outpost-tmp`;
    const dir = remotePath.slice(0, remotePath.lastIndexOf('/')) || '/';
    const script = `mkdir -p ${shQuote(dir)} && cat > ${shQuote(temp)} && chmod ${mode.toString(8)} ${shQuote(temp)} && mv -f ${shQuote(temp)} ${shQuote(remotePath)}`;
    const stdin = 'bytes' in source ? source.bytes : createReadStream(source.localPath);
    try {
      await this.run(script, { ...opts, stdin });
    } catch (err) {
      // Best effort: a dropped connection leaves the temporary file, which the next attempt overwrites.
      if (!this.dropped) await this.exec(`rm -f ${shQuote(temp)}`).catch(() => undefined);
      throw err;
    }
  }

  close(): void {
    this.dropped ??= new SshError('Dropped', this.target.host, `the SSH connection to ${this.target.host} was closed`);
    this.client.end();
    this.bastion?.end();
  }
}
