import { describe, expect, it } from 'vitest';
import { chooseEvictions } from './eviction.js';

const e = (digest: string, size: number, lastUsedMs: number) => ({ digest, size, lastUsedMs });

describe('chooseEvictions', () => {
  const entries = [e('a', 40, 1), e('b', 30, 2), e('c', 20, 3), e('d', 10, 4)];
  it('evicts nothing while the new artifact fits', () => {
    expect(chooseEvictions(entries, new Set(), 0, 100)).toEqual([]);
    expect(chooseEvictions(entries, new Set(), 10, 110)).toEqual([]);
  });
  it('evicts what no current Cluster uses first, least recently used first', () => {
    // a and c are in use; b (older than d) goes first, then d.
    expect(chooseEvictions(entries, new Set(['a', 'c']), 30, 100)).toEqual(['b']);
    expect(chooseEvictions(entries, new Set(['a', 'c']), 40, 100)).toEqual(['b', 'd']);
  });
  it('evicts what is in use only when that is not enough, oldest first, and never what it must keep', () => {
    expect(chooseEvictions(entries, new Set(['a', 'c']), 70, 100)).toEqual(['b', 'd', 'a']);
    expect(chooseEvictions(entries, new Set(), 100, 100, new Set(['a']))).toEqual(['b', 'c', 'd']);
  });
});
