import { describe, expect, it } from 'vitest';
import { ByteSizeError, formatByteSize, parseByteSize } from './byte-size.js';

describe('parseByteSize', () => {
  it('reads IEC, SI and bare numbers', () => {
    expect(parseByteSize('20GiB')).toBe(20 * 1024 ** 3);
    expect(parseByteSize('512 MiB')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('1.5GB')).toBe(1.5e9);
    expect(parseByteSize('20G')).toBe(20 * 1024 ** 3);
    expect(parseByteSize('1000000')).toBe(1_000_000);
  });
  it('refuses what is not a size, saying how to write one', () => {
    for (const t of ['', 'big', '-1GiB', '5 parsecs']) expect(() => parseByteSize(t)).toThrow(ByteSizeError);
    expect(() => parseByteSize('big')).toThrow(/such as 20GiB/);
  });
  it('formats for people', () => {
    expect(formatByteSize(900)).toBe('900 B');
    expect(formatByteSize(1.5 * 1024 ** 3)).toBe('1.5 GiB');
  });
});
