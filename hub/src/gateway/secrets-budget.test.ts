import { MAX_SECRETS_PER_REQUEST, SecretsMissing } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { SecretsBudget } from './secrets-budget.js';

const refs = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: 'Cluster', namespace: 'p', name: `c${i}`, uid: `u${i}` }));

describe('SecretsBudget', () => {
  it('answers TOO_MANY past the per-frame bound, keeping the order', () => {
    const { asked, refused } = new SecretsBudget(0).split(refs(MAX_SECRETS_PER_REQUEST + 2), 0);
    expect(asked).toHaveLength(MAX_SECRETS_PER_REQUEST);
    expect(refused.map((r) => [r.ref?.name, r.missing?.reason])).toEqual([
      [`c${MAX_SECRETS_PER_REQUEST}`, SecretsMissing.tooMany],
      [`c${MAX_SECRETS_PER_REQUEST + 1}`, SecretsMissing.tooMany],
    ]);
  });

  it('answers RATE_LIMITED beyond the burst, and looks up again once tokens are back', () => {
    const budget = new SecretsBudget(0, { clusters: 3, clustersPerSecond: 1 });
    const first = budget.split(refs(5), 0);
    expect(first.asked).toHaveLength(3);
    expect(first.refused.map((r) => r.missing?.reason)).toEqual([SecretsMissing.rateLimited, SecretsMissing.rateLimited]);
    expect(budget.split(refs(1), 500).asked).toHaveLength(0);
    expect(budget.split(refs(1), 1000).asked).toHaveLength(1);
  });
});
