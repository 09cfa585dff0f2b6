// The files of one bundle, in stream order: FILE alone, or every FILE.part-NNNN-of-MMMM, given in order.
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { parsePartFileName } from '@outpost/proto';
import { BundleRefused } from './errors.js';

export interface BundleFile {
  path: string;
  size: number;
}

export function bundleFiles(paths: readonly string[]): BundleFile[] {
  if (paths.length === 0) throw new BundleRefused('MISSING_PART', 'name the bundle file (or all its parts, in order)');
  const parts = paths.map((p) => ({ path: p, part: parsePartFileName(basename(p)) }));
  const split = parts.filter((p) => p.part);
  if (split.length > 0) {
    if (split.length !== parts.length) throw new BundleRefused('PART_ORDER', `${paths.join(', ')} mixes parts of a split bundle with other files; give only the parts of one bundle, in order`);
    const { base, count } = split[0]!.part!;
    for (const p of split) {
      if (p.part!.base !== base || p.part!.count !== count) throw new BundleRefused('PART_ORDER', `${p.path} is not a part of the same bundle as ${split[0]!.path}; give the parts of one bundle, in order`);
    }
    const given = new Set(split.map((p) => p.part!.index));
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !given.has(i));
    if (missing.length) {
      const names = missing.map((i) => `${base}.part-${String(i).padStart(4, '0')}-of-${String(count).padStart(4, '0')}`);
      throw new BundleRefused('MISSING_PART', `the bundle has ${count} parts and ${missing.length === 1 ? 'part' : 'parts'} ${missing.join(', ')} (${names.join(', ')}) ${missing.length === 1 ? 'is' : 'are'} missing; copy every part and give them all, in order`);
    }
    if (split.length !== count) throw new BundleRefused('PART_ORDER', `a part is given twice; give each of the ${count} parts once, in order`);
    split.forEach((p, i) => {
      if (p.part!.index !== i + 1) throw new BundleRefused('PART_ORDER', `the parts are out of order: ${p.path} is given as part ${i + 1}; give them in order (part-0001 first), as \`ls ${base}.part-*\` lists them`);
    });
  } else if (parts.length > 1) {
    throw new BundleRefused('PART_ORDER', `${paths.join(', ')} are not parts of one bundle (FILE.part-0001-of-000N); give one bundle at a time`);
  }
  return paths.map((path) => {
    try {
      return { path, size: statSync(path).size };
    } catch (cause) {
      throw new BundleRefused('MISSING_PART', `${path} cannot be read (${(cause as Error).message}); check the path`, { cause });
    }
  });
}
