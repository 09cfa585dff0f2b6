// Commands of the test world's fixtures: output as text, or (for teardown) quietly nothing on failure.
import { execFileSync } from 'node:child_process';

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export const sh = (cmd: string, args: readonly string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs a command for teardown: whatever it was meant to remove may already be gone. Returns '' on failure. */
export function shQuiet(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}
