import { describe, expect, it } from 'vitest';
import { sameConditions, setCondition, withTransitionTime } from './conditions.js';

const T0 = '2025-01-01T00:00:00Z';
const NOW = new Date(Date.UTC(2025, 5, 1, 12, 0, 0));

describe('conditions', () => {
  it('stamps a new or changed condition with now, and keeps the time while the status stays', () => {
    const fresh = setCondition(undefined, { type: 'Ready', status: 'False' }, NOW);
    expect(fresh).toEqual([{ type: 'Ready', status: 'False', lastTransitionTime: '2025-06-01T12:00:00Z' }]);
    const old = [{ type: 'Ready', status: 'False', lastTransitionTime: T0 }, { type: 'Other', status: 'True', lastTransitionTime: T0 }];
    expect(setCondition(old, { type: 'Ready', status: 'False', reason: 'Still' }, NOW)).toEqual([
      { type: 'Ready', status: 'False', reason: 'Still', lastTransitionTime: T0 },
      { type: 'Other', status: 'True', lastTransitionTime: T0 },
    ]);
    expect(setCondition(old, { type: 'Ready', status: 'True' }, NOW)[0]?.lastTransitionTime).toBe('2025-06-01T12:00:00Z');
  });

  it('keeps a time the condition carries: it was stamped where the change was observed', () => {
    const observed = { type: 'Ready', status: 'True', lastTransitionTime: '2025-03-03T03:03:03Z' };
    expect(withTransitionTime({ type: 'Ready', status: 'False', lastTransitionTime: T0 }, observed, NOW)).toEqual(observed);
    expect(setCondition([], observed, NOW)).toEqual([observed]);
  });

  it('compares lists without their times', () => {
    expect(sameConditions([{ type: 'A', status: 'True', lastTransitionTime: T0 }], [{ type: 'A', status: 'True' }])).toBe(true);
    expect(sameConditions([{ type: 'A', status: 'True' }], [{ type: 'A', status: 'False' }])).toBe(false);
    expect(sameConditions(undefined, [])).toBe(true);
  });
});
