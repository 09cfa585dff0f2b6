import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleFiles } from './bundle-files.js';

describe('bundleFiles', () => {
  let dir: string;
  const part = (i: number, n = 3): string => join(dir, `b.tar.part-000${i}-of-000${n}`);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-parts-'));
    for (const i of [1, 2, 3]) writeFileSync(part(i), `part ${i}`);
    writeFileSync(join(dir, 'b.tar'), 'whole');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes one file, or every part in order, with their sizes', () => {
    expect(bundleFiles([join(dir, 'b.tar')])).toEqual([{ path: join(dir, 'b.tar'), size: 5 }]);
    expect(bundleFiles([part(1), part(2), part(3)]).map((f) => f.size)).toEqual([6, 6, 6]);
  });

  it('names a missing part, and refuses parts out of order or of another bundle', () => {
    expect(() => bundleFiles([part(1), part(3)])).toThrow(/part 2 \(.*b\.tar\.part-0002-of-0003\) is missing/);
    expect(() => bundleFiles([part(2), part(1), part(3)])).toThrow(/out of order/);
    expect(() => bundleFiles([part(1), part(2), join(dir, 'x.part-0003-of-0003')])).toThrow(/not a part of the same bundle/);
    expect(() => bundleFiles([join(dir, 'b.tar'), part(1)])).toThrow(/mixes parts/);
    expect(() => bundleFiles([join(dir, 'nope.tar')])).toThrow(/cannot be read/);
  });
});
