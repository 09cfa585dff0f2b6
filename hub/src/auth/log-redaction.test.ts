import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LOG_REDACTION } from './log-redaction.js';

describe('log redaction', () => {
  it('censors authorization headers, tokens, credentials and secrets wherever a log call puts them', () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void ((out += chunk.toString()), done()) });
    const log = pino({ redact: LOG_REDACTION }, sink);
    log.warn({ req: { headers: { authorization: 'Bearer abcdef.s3cr3t-header' } }, headers: { authorization: 'Bearer s3cr3t-top' } }, 'request');
    log.warn({ token: 'abcdef.s3cr3t-token', body: { token: 's3cr3t-body' }, credential: 's3cr3t-cred', join: { secret: 's3cr3t-secret' } }, 'join');
    expect(out).not.toMatch(/s3cr3t/);
    expect(out.match(/\[redacted\]/g)).toHaveLength(6);
  });

  it("censors a cluster's CAs, logged as a ClusterKeys, a wire entry or a key pair", () => {
    let out = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void ((out += chunk.toString()), done()) });
    const log = pino({ redact: LOG_REDACTION }, sink);
    log.warn({ entry: { keys: { ca: { keyPem: 's3cr3t-a' } } }, ca: { certPem: 'public', keyPem: 's3cr3t-b' }, serviceAccount: { privateKeyPem: 's3cr3t-c' } }, 'keys');
    log.warn({ keys: { serviceAccountPrivateKeyPem: 's3cr3t-d' } }, 'keys');
    expect(out).not.toMatch(/s3cr3t/);
    expect(out).toContain('public');
  });
});
