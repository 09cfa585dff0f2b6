// RFC 6902 through fast-json-patch: every operation, and which failures are the patch's (400) and which
// the object's (422).
import { describe, expect, it } from 'vitest';
import { HubError } from '../errors.js';
import { applyJsonPatch } from './json-patch.js';

const doc = () => ({ spec: { version: '1.33.0', sshKeys: ['a', 'b'], network: { cni: 'cilium' } } });

function failure(patch: unknown): HubError {
  try {
    applyJsonPatch(doc(), patch);
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('the patch applied');
}

describe('JSON patch', () => {
  it('applies add, remove, replace, move, copy and test in order, leaving the input alone', () => {
    const input = doc();
    const out = applyJsonPatch(input, [
      { op: 'test', path: '/spec/version', value: '1.33.0' },
      { op: 'replace', path: '/spec/version', value: '1.34.0' },
      { op: 'add', path: '/spec/sshKeys/-', value: 'c' },
      { op: 'remove', path: '/spec/sshKeys/0' },
      { op: 'copy', from: '/spec/network/cni', path: '/spec/datacenter' },
      { op: 'move', from: '/spec/network', path: '/spec/net' },
    ]);
    expect(out).toEqual({ spec: { version: '1.34.0', sshKeys: ['b', 'c'], datacenter: 'cilium', net: { cni: 'cilium' } } });
    expect(input).toEqual(doc());
  });

  it('answers 422 naming the operation when a test fails or a path is not there', () => {
    const test = failure([{ op: 'replace', path: '/spec/version', value: 'x' }, { op: 'test', path: '/spec/version', value: '1.0.0' }]);
    expect(test.status).toBe(422);
    expect(test.message).toBe("the JSON patch's operation 1 (test /spec/version) failed: the object holds another value there; nothing was written");
    expect(test.causes).toEqual([{ field: '/spec/version', message: test.message }]);
    const missing = failure([{ op: 'remove', path: '/spec/nope' }]);
    expect(missing.status).toBe(422);
    expect(missing.message).toMatch(/operation 0 \(remove \/spec\/nope\) does not apply to the object: Cannot perform the operation at a path that does not exist; nothing was written$/);
    expect(failure([{ op: 'add', path: '/spec/sshKeys/9', value: 'z' }]).status).toBe(422);
  });

  it('answers 400 for a patch that is malformed whatever the object', () => {
    for (const bad of [{ op: 'add' }, [{ op: 'frobnicate', path: '/spec' }], [{ op: 'add', path: 'spec', value: 1 }], [{ op: 'add', path: '/spec/x' }], [{ op: 'move', path: '/spec/x' }], ['replace']]) {
      const err = failure(bad);
      expect(err.status, JSON.stringify(bad)).toBe(400);
      expect(err.message).toMatch(/nothing was written/);
    }
    expect(failure({ op: 'add' }).message).toMatch(/is a list of operations/);
    expect(failure([{ op: 'frobnicate', path: '/spec' }]).message).toMatch(/^the JSON patch's operation 0 \(frobnicate \/spec\) is malformed: Operation `op` property is not one of operations defined in RFC-6902/);
  });

  it('refuses to touch __proto__', () => {
    const err = failure([{ op: 'add', path: '/__proto__/polluted', value: 1 }]);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/may not touch __proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
