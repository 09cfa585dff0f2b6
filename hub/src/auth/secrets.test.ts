import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret, newAgentSecret, secretMatches, splitToken } from './secrets.js';

describe('secrets', () => {
  it('stores only a SHA-256 of a secret, and matches the secret against it', () => {
    const secret = newAgentSecret();
    const hash = hashSecret(secret);
    expect(hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hash).not.toContain(secret);
    expect(secretMatches(secret, hash)).toBe(true);
    expect(secretMatches(`${secret}x`, hash)).toBe(false);
    expect(secretMatches('', hash)).toBe(false);
  });

  it('refuses, without throwing, a stored hash of another length or not hex (timingSafeEqual needs equal lengths)', () => {
    const secret = newAgentSecret();
    expect(secretMatches(secret, hashSecret(secret).slice(0, 62))).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
    expect(secretMatches(secret, 'zz'.repeat(32))).toBe(false);
  });

  it('splits "<id>.<secret>" at the last dot, and refuses a token with nothing on one side', () => {
    expect(splitToken('abc.def')).toEqual({ id: 'abc', secret: 'def' });
    expect(splitToken('a.b.c')).toEqual({ id: 'a.b', secret: 'c' });
    for (const bad of ['abc', '.abc', 'abc.', '']) expect(splitToken(bad)).toBeUndefined();
  });
});
