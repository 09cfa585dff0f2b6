// -o, --output as kubectl reads it: table (the default), wide, name, yaml, json, jsonpath=TEMPLATE; and
// printing a list, one object, or one watch event in the chosen format.
import { findKind, type ResourceObject } from '@outpost/proto';
import { InvalidArgumentError } from 'commander';
import YAML from 'yaml';
import { JsonPathError, parseJsonPath, runJsonPath, type JsonPathTemplate } from './jsonpath.js';
import { renderTable } from './table.js';

export type Output = { format: 'table' | 'wide' | 'name' | 'yaml' | 'json' } | { format: 'jsonpath'; template: JsonPathTemplate };

export const OUTPUT_FORMATS = ['wide', 'name', 'yaml', 'json', 'jsonpath=TEMPLATE'] as const;

/** commander's parser for -o: an error names the formats there are. */
export function outputArg(value: string): Output {
  const m = /^(jsonpath)=(.*)$/s.exec(value);
  if (m) {
    if (!m[2]) throw new InvalidArgumentError("jsonpath needs a template, such as -o jsonpath='{.items[*].metadata.name}'");
    try {
      return { format: 'jsonpath', template: parseJsonPath(m[2]) };
    } catch (err) {
      if (err instanceof JsonPathError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  }
  if (value === 'jsonpath') throw new InvalidArgumentError("jsonpath needs a template: -o jsonpath='{.metadata.name}'");
  if (value === 'table' || value === 'wide' || value === 'name' || value === 'yaml' || value === 'json') return { format: value };
  throw new InvalidArgumentError(`use one of ${OUTPUT_FORMATS.join(', ')} (or leave -o out for a table)`);
}

/** kind/name, as apply and delete name objects (and as `outpost get` takes them back). */
export function nameOf(o: ResourceObject): string {
  return `${findKind(o.kind)?.singular ?? o.kind.toLowerCase()}/${o.metadata.name ?? ''}`;
}

/**
 * `o` without metadata.managedFields, which kubectl leaves out of -o yaml|json and diffs too (its
 * --show-managed-fields shows them): who wrote which field is noise when reading an object.
 */
export function withoutManagedFields<T extends ResourceObject>(o: T): T {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _who, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** What a list prints as, ending in a newline. `withProject`: the table's PROJECT column. */
export function formatList(all: readonly ResourceObject[], listMeta: { resourceVersion: string }, out: Output, withProject: boolean): string {
  const items = all.map(withoutManagedFields);
  switch (out.format) {
    case 'table':
    case 'wide':
      return `${renderTable(items, withProject, { wide: out.format === 'wide' })}\n`;
    case 'name':
      return items.map((o) => `${nameOf(o)}\n`).join('');
    case 'jsonpath':
      return runJsonPath(out.template, asList(items, listMeta));
    default:
      return formatData(asList(items, listMeta), out.format);
  }
}

/** What one object prints as, ending in a newline (jsonpath prints only what its template says). */
export function formatObject(shown: ResourceObject, out: Output, withProject = false, noHeaders = false): string {
  const o = withoutManagedFields(shown);
  switch (out.format) {
    case 'table':
    case 'wide':
      return `${renderTable([o], withProject, { wide: out.format === 'wide', noHeaders })}\n`;
    case 'name':
      return `${nameOf(o)}\n`;
    case 'jsonpath':
      return runJsonPath(out.template, o);
    default:
      return formatData(o, out.format);
  }
}

export function formatData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : YAML.stringify(value);
}

function asList(items: readonly ResourceObject[], metadata: { resourceVersion: string }): unknown {
  return { apiVersion: 'v1', kind: 'List', metadata, items };
}
