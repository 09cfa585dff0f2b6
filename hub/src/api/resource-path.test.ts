import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../errors.js';
import { parseResourcePath } from './resource-path.js';

describe('parseResourcePath', () => {
  it('reads a project, kind, name and status', () => {
    expect(parseResourcePath('/namespaces/demo/clusters/pos/status')).toMatchObject({ kind: { kind: 'Cluster' }, namespace: 'demo', name: 'pos', subresource: 'status' });
  });

  // Found by the fuzzer (test/bench/fuzz): decodeURIComponent's URIError was a 500.
  it.each(['/sites/%', '/sites/%zz', '/namespaces/%E0%A4%A/clusters'])('refuses %s, a bad escape, with 400', (rest) => {
    expect(() => parseResourcePath(rest)).toThrow(BadRequestError);
    expect(() => parseResourcePath(rest)).toThrow(/is not percent-encoded correctly/);
  });
});
