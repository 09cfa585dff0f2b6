import { findKind } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import { authenticate, authorize, type Principal } from './principal.js';
import { hashSecret } from './secrets.js';

const k = (n: string) => findKind(n)!;

describe('authorize', () => {
  const editor: Principal = { name: 'e', role: 'editor', project: 'demo' };
  const viewer: Principal = { name: 'v', role: 'viewer', project: 'demo' };
  it('lets admins do anything', () => {
    expect(() => authorize({ name: 'a', role: 'admin' }, 'delete', k('sites'), undefined, 's')).not.toThrow();
  });
  it('keeps project tokens inside their project and role', () => {
    expect(() => authorize(editor, 'create', k('clusters'), 'demo')).not.toThrow();
    expect(() => authorize(editor, 'create', k('clusters'), 'other')).toThrow(ForbiddenError);
    expect(() => authorize(editor, 'list', k('clusters'), undefined)).toThrow(/name the project/);
    expect(() => authorize(viewer, 'get', k('clusters'), 'demo', 'c')).not.toThrow();
    expect(() => authorize(viewer, 'delete', k('clusters'), 'demo', 'c')).toThrow(/viewers only read/);
    expect(() => authorize(editor, 'get', k('sites'), undefined, 's')).toThrow(/infrastructure/);
    expect(() => authorize(editor, 'list', k('datacenters'), undefined)).not.toThrow();
    expect(() => authorize(editor, 'create', k('datacenters'), undefined)).toThrow(ForbiddenError);
    expect(() => authorize(editor, 'patch', k('projects'), undefined, 'demo')).toThrow(ForbiddenError);
    expect(() => authorize({ ...editor, role: 'owner' }, 'patch', k('projects'), undefined, 'demo')).not.toThrow();
  });
});

describe('authenticate', () => {
  const token = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: { name: 'abcdef' }, spec: { type: 'api', role: 'editor', project: 'demo' } };
  const lookup = {
    token: (id: string) => (id === 'abcdef' ? token : undefined),
    credential: (id: string) => (id === 'token/abcdef' ? { type: 'api', hash: hashSecret('s'.repeat(32)) } : undefined),
  };
  it('accepts a valid bearer token and refuses anything else', () => {
    expect(authenticate(lookup, `Bearer abcdef.${'s'.repeat(32)}`)).toEqual({ name: 'abcdef', role: 'editor', project: 'demo' });
    expect(() => authenticate(lookup, undefined)).toThrow(UnauthorizedError);
    expect(() => authenticate(lookup, `Bearer abcdef.${'x'.repeat(32)}`)).toThrow(UnauthorizedError);
    expect(() => authenticate(lookup, 'Bearer nodot')).toThrow(UnauthorizedError);
    const expired = { ...token, spec: { ...token.spec, expires: '2000-01-01T00:00:00Z' } };
    expect(() => authenticate({ ...lookup, token: () => expired }, `Bearer abcdef.${'s'.repeat(32)}`)).toThrow(/expired/);
  });
  it('fails closed on an expiry it cannot read: such a token has expired, it does not live for ever', () => {
    for (const expires of ['next tuesday', '2099-13-45T99:00:00Z', '4102444800', '2099']) {
      const unreadable = { ...token, spec: { ...token.spec, expires } };
      expect(() => authenticate({ ...lookup, token: () => unreadable }, `Bearer abcdef.${'s'.repeat(32)}`), expires).toThrow(/expired/);
    }
    const later = { ...token, spec: { ...token.spec, expires: '2099-01-01T00:00:00.5+02:00' } };
    expect(authenticate({ ...lookup, token: () => later }, `Bearer abcdef.${'s'.repeat(32)}`).name).toBe('abcdef');
  });
});
