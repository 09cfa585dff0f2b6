// The outpost-agent command line in process: flags are checked before anything starts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

afterEach(() => vi.restoreAllMocks());

function stderrOf(): () => string {
  let text = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  });
  return () => text;
}

describe('outpost-agent run --log-level', () => {
  it('refuses a level it does not know with exit 2, naming the choices', async () => {
    const stderr = stderrOf();
    expect(await main(['run', '--data', '/nonexistent', '--log-level', 'loud'])).toBe(2);
    expect(stderr()).toContain("error: option '--log-level <level>' argument 'loud' is invalid. Allowed choices are debug, info, warn, error.");
  });

  it('takes a known level and goes on to start (here: to find no identity)', async () => {
    const stderr = stderrOf();
    expect(await main(['run', '--data', '/nonexistent', '--log-level', 'debug'])).toBe(1);
    expect(stderr()).toMatch(/join failed \(NOT_JOINED\): \/nonexistent holds no agent identity/);
  });
});

describe('outpost-agent run --leaf-cert-lifetime, --heal-interval', () => {
  it('refuses what is not a whole number of seconds with exit 2, naming the value', async () => {
    for (const flag of ['--leaf-cert-lifetime', '--heal-interval']) {
      const stderr = stderrOf();
      expect(await main(['run', '--data', '/nonexistent', flag, '1.5h'])).toBe(2);
      expect(stderr()).toContain('"1.5h" is not a whole number of seconds above 0');
      vi.restoreAllMocks();
    }
  });
});
