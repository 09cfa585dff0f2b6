import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, LEGACY_CONTEXT, parseConfig, readConfig, readConfigFile, selectContext, withContext, writeConfigFile } from './config.js';

const A = { name: 'a', hub: 'https://a:8443', token: 'ta', caCert: 'CA-A' };
const B = { name: 'b', hub: 'https://b:8443', token: 'tb', caCert: 'CA-B' };

describe('config contexts', () => {
  it('reads an old single-hub file as one context named default, current', () => {
    const cfg = parseConfig('hub: https://old:8443\ntoken: t\ncaCert: CA\n', 'cfg');
    expect(cfg).toEqual({ currentContext: LEGACY_CONTEXT, contexts: [{ name: 'default', hub: 'https://old:8443', token: 't', caCert: 'CA' }] });
    expect(selectContext(cfg, undefined).hub).toBe('https://old:8443');
  });

  it('reads contexts and the current one, and picks by name', () => {
    const cfg = parseConfig('current-context: b\ncontexts:\n  - {name: a, hub: "https://a:8443", token: ta, caCert: CA-A}\n  - {name: b, hub: "https://b:8443", token: tb, caCert: CA-B}\n', 'cfg');
    expect(selectContext(cfg, undefined)).toEqual(B);
    expect(selectContext(cfg, 'a')).toEqual(A);
  });

  it('adds a context in place or at the end, and makes it current', () => {
    const one = withContext({ currentContext: '', contexts: [] }, A);
    const two = withContext(one, B);
    expect(two).toEqual({ currentContext: 'b', contexts: [A, B] });
    const again = withContext(two, { ...A, token: 'new' });
    expect(again).toEqual({ currentContext: 'a', contexts: [{ ...A, token: 'new' }, B] });
  });

  it('says what to do when a context is missing, unnamed or incomplete', () => {
    const cfg = { currentContext: 'a', contexts: [A, B] };
    expect(() => selectContext(cfg, 'c', 'cfg')).toThrow('no context "c" in cfg; known contexts: a, b');
    expect(() => selectContext({ currentContext: 'gone', contexts: [A] }, undefined, 'cfg')).toThrow('no context "gone" in cfg; known contexts: a (choose one with `outpost config use-context NAME`)');
    expect(() => selectContext({ currentContext: '', contexts: [A] }, undefined, 'cfg')).toThrow(/names no current context; choose one with `outpost config use-context NAME` \(known: a\) or pass --context NAME/);
    expect(() => selectContext({ currentContext: '', contexts: [] }, undefined, 'cfg')).toThrow(/no CLI config at cfg; run `outpost login/);
    expect(() => parseConfig('hub: https://x\n', 'cfg')).toThrow(/cfg lacks hub, token or caCert; run `outpost login` again/);
    expect(() => parseConfig('contexts:\n  - {name: a, hub: x}\n', 'cfg')).toThrow(/context 1 lacks name, hub, token or caCert/);
    expect(() => parseConfig('contexts: {a: 1}\n', 'cfg')).toThrow(ConfigError);
    expect(() => parseConfig('[1, 2]\n', 'cfg')).toThrow(/not a config/);
    expect(() => parseConfig('a: [\n', 'cfg')).toThrow(/cfg is not YAML/);
  });

  describe('the file', () => {
    let dir: string;
    const saved = process.env.OUTPOST_CONFIG;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'outpost-config-'));
      process.env.OUTPOST_CONFIG = join(dir, 'sub', 'config');
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.OUTPOST_CONFIG;
      else process.env.OUTPOST_CONFIG = saved;
      rmSync(dir, { recursive: true, force: true });
    });

    it('is none until written, then round-trips; an old one is rewritten whole', () => {
      expect(readConfigFile()).toEqual({ currentContext: '', contexts: [] });
      writeConfigFile({ currentContext: 'a', contexts: [A, B] });
      expect(readConfig()).toEqual(A);
      expect(readConfig('b')).toEqual(B);
      writeFileSync(process.env.OUTPOST_CONFIG!, 'hub: https://old:8443\ntoken: t\ncaCert: CA\n');
      writeConfigFile(withContext(readConfigFile(), B));
      expect(readConfigFile()).toEqual({ currentContext: 'b', contexts: [{ name: 'default', hub: 'https://old:8443', token: 't', caCert: 'CA' }, B] });
      expect(readFileSync(process.env.OUTPOST_CONFIG!, 'utf8')).toMatch(/^current-context: b\ncontexts:\n/);
    });
  });
});
