// One command over SSH with ssh2, as the site agent runs them: key auth, the host key pinned by its
// "SHA256:..." fingerprint (a mismatch fails the connection).
import { createHash } from 'node:crypto';
import { Client } from 'ssh2';

export interface SshEndpoint {
  address: string;
  port: number;
  user: string;
}

export interface SshResult {
  out: string;
  err: string;
  /** The command's exit status (null when it died of a signal). */
  code: number | null;
}

export const sshFingerprint = (key: Buffer): string => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

export function sshExec(host: SshEndpoint, privateKey: string, pinned: string, command: string): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    conn
      .on('ready', () => {
        conn.exec(command, (err, stream) => {
          if (err) {
            conn.end();
            return reject(err);
          }
          let out = '';
          let errOut = '';
          let code: number | null = null;
          stream.on('exit', (c: number | null) => (code = c));
          stream.on('data', (d: Buffer) => (out += d.toString()));
          stream.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
          stream.on('close', () => {
            conn.end();
            resolve({ out, err: errOut, code });
          });
        });
      })
      .on('error', reject)
      .connect({ host: host.address, port: host.port, username: host.user, privateKey, readyTimeout: 10_000, hostVerifier: (key: Buffer) => sshFingerprint(key) === pinned });
  });
}
