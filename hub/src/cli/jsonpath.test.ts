import { describe, expect, it } from 'vitest';
import { JsonPathError, parseJsonPath, runJsonPath } from './jsonpath.js';

// The expected strings are what kubectl 1.34 prints for the same template and object
// (`kubectl config view -o jsonpath=...` on a kubeconfig of this shape).
const DATA = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'a', cluster: { server: 'https://a' } },
    { name: 'b', cluster: { server: 'https://b' } },
  ],
  contexts: null,
};
const jp = (template: string, data: unknown = DATA): string => runJsonPath(parseJsonPath(template), data);

describe('kubectl jsonpath templates', () => {
  it('reads fields, wildcards and slices, joining several results with spaces', () => {
    expect(jp('{.kind}')).toBe('Config');
    expect(jp('{ .kind }')).toBe('Config');
    expect(jp('{$.kind}')).toBe('Config');
    expect(jp('{@.kind}')).toBe('Config');
    expect(jp('{.clusters[*].cluster.server}')).toBe('https://a https://b');
    expect(jp('{.clusters[-1:].name}')).toBe('b');
    expect(jp("{.clusters[*]['name']}")).toBe('a b');
    expect(jp('{..server}')).toBe('https://a https://b');
    expect(jp('{.clusters[?(@.name=="b")].cluster.server}')).toBe('https://b');
  });

  it('prints objects as JSON with sorted keys, null as null, and a missing field as nothing', () => {
    expect(jp('{.clusters[0].cluster}')).toBe('{"server":"https://a"}');
    expect(jp('{.clusters}')).toBe('[{"cluster":{"server":"https://a"},"name":"a"},{"cluster":{"server":"https://b"},"name":"b"}]');
    expect(jp('{.clusters[*]}')).toBe('{"cluster":{"server":"https://a"},"name":"a"} {"cluster":{"server":"https://b"},"name":"b"}');
    expect(jp('{.contexts}')).toBe('null');
    expect(jp('{.nope}|{.clusters[*].nope}|')).toBe('||');
    expect(jp('{.clusters[0].cluster.server} {.kind}')).toBe('https://a Config');
  });

  it('ranges, with quoted strings for newlines and tabs; a bare \\n stays as written', () => {
    expect(jp('{range .clusters[*]}{.name}{","}{end}')).toBe('a,b,');
    expect(jp('{range .clusters[*]}{.name}{"\\n"}{end}tail')).toBe('a\nb\ntail');
    expect(jp('{.clusters[*].name}\\n{range .clusters[*]}[{.name}]{"\\t"}{.cluster.server}{"\\n"}{end}x')).toBe('a b\\n[a]\thttps://a\n[b]\thttps://b\nx');
    expect(jp('{.clusters[*].name}{"\\u00e9\\"x"}')).toBe('a bé"x');
    expect(jp('{"}"}')).toBe('}');
    // The array itself is the one item of a range over .clusters, and it has no name.
    expect(jp('{range .clusters}{.name}{end}')).toBe('');
    // Inside a range, $ is the item, as kubectl has it.
    expect(jp('{range .clusters[*]}{$.kind}{end}')).toBe('');
    expect(jp('{range .clusters[*]}{.name}')).toBe('ab');
    expect(jp('{range .items[*]}{.metadata.name}{" "}{range .status.conditions[*]}{.type}={.status};{end}{"\\n"}{end}', {
      items: [{ metadata: { name: 'pos' }, status: { conditions: [{ type: 'Received', status: 'True' }, { type: 'Ready', status: 'False' }] } }, { metadata: { name: 'tills' } }],
    })).toBe('pos Received=True;Ready=False;\ntills \n');
  });

  it('says what is wrong with a template', () => {
    expect(() => parseJsonPath('{.kind')).toThrow(/unclosed action/);
    expect(() => parseJsonPath('{{.kind}')).toThrow(/unrecognized character in action: '\{'/);
    expect(() => parseJsonPath('{end}')).toThrow(/not in a \{range\}, nothing to end/);
    expect(() => parseJsonPath('{kind}')).toThrow(/unrecognized identifier kind; a field is written with a leading dot/);
    expect(() => parseJsonPath('{"x}')).toThrow(JsonPathError);
    expect(() => parseJsonPath('{}')).toThrow(/empty action/);
  });
});
