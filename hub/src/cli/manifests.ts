// Reads manifests: multi-document YAML or JSON, from a file or stdin. Errors name the document and line.
import { readFileSync } from 'node:fs';
import type { ResourceObject } from '@outpost/proto';
import YAML from 'yaml';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

export function readManifestSource(file: string): { text: string; source: string } {
  if (file === '-') return { text: readFileSync(0, 'utf8'), source: 'stdin' };
  try {
    return { text: readFileSync(file, 'utf8'), source: file };
  } catch (err) {
    throw new ManifestError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export function parseManifests(text: string, source: string): ResourceObject[] {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const out: ResourceObject[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      throw new ManifestError(`${source}, document ${i + 1}: invalid YAML: ${doc.errors[0]!.message}`);
    }
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (err) {
      // The yaml library resolves aliases here, not while parsing: an alias to no anchor, or one that
      // expands past its alias limit (a "billion laughs"), throws a ReferenceError.
      throw new ManifestError(`${source}, document ${i + 1}: invalid YAML: ${(err as Error).message}`, { cause: err });
    }
    if (value === null || value === undefined) return; // an empty document between separators
    const items = isList(value) ? value.items : [value];
    for (const item of items) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ManifestError(`${source}, document ${i + 1}: expected a resource object, got ${Array.isArray(item) ? 'a list' : typeof item}`);
      const o = item as Partial<ResourceObject>;
      if (!o.kind) throw new ManifestError(`${source}, document ${i + 1}: no "kind"`);
      if (!o.metadata || typeof o.metadata !== 'object') throw new ManifestError(`${source}, document ${i + 1} (${o.kind}): no "metadata"`);
      out.push(o as ResourceObject);
    }
  });
  return out;
}

function isList(v: unknown): v is { items: unknown[] } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { kind?: unknown; items?: unknown };
  return Array.isArray(o.items) && (o.kind === undefined || (typeof o.kind === 'string' && o.kind.endsWith('List')));
}
