// Quoting of host commands. A real /bin/sh parses these in test/e2e/site-generators.test.ts; here, the exact text.
import { describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from './shell-quote.js';

describe('shellQuote', () => {
  it('leaves plain words bare and single-quotes everything else', () => {
    expect(shellQuote('/usr/local/bin/kubeadm')).toBe('/usr/local/bin/kubeadm');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(shellQuote('`id`;x&y|z>w<v*?~')).toBe("'`id`;x&y|z>w<v*?~'");
    expect(shellQuote('line\nbreak')).toBe("'line\nbreak'");
  });

  it('closes, escapes and reopens around a single quote', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("'")).toBe("''\\'''");
  });

  it('quotes "=" so a first word is never an assignment', () => {
    expect(shellJoin(['a=b', 'c'])).toBe("'a=b' c");
  });

  it('refuses NUL and an empty command', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
    expect(() => shellJoin([])).toThrow(/empty/);
  });
});
