import { describe, expect, it } from 'vitest';
import { PokeBatch } from './poke-batch.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('PokeBatch', () => {
  it('hands on the views of one tick once, with the newest revision', async () => {
    const rounds: Array<[string[], number]> = [];
    const batch = new PokeBatch((views, revision) => rounds.push([[...views].sort(), revision]));
    batch.add(['site/a'], 5);
    batch.add(['site/b', 'site/a'], 7);
    batch.add(['site/c'], 6);
    expect(rounds).toEqual([]);
    await tick();
    expect(rounds).toEqual([[['site/a', 'site/b', 'site/c'], 7]]);
    batch.add(['site/d'], 8);
    await tick();
    expect(rounds.at(-1)).toEqual([['site/d'], 8]);
  });

  it('makes no round for a write that touched no view', async () => {
    const rounds: unknown[] = [];
    const batch = new PokeBatch(() => rounds.push(1));
    batch.add([], 3);
    await tick();
    expect(rounds).toEqual([]);
  });
});
