import { describe, expect, it } from 'vitest';
import { agentFinalizer, isAgentFinalizer, seedView, siteView } from './agent-views.js';

describe('agent finalizers', () => {
  it('names one per Site or Seed view', () => {
    expect(agentFinalizer(siteView('store-0412'))).toBe('agent.outpost.dev/site.store-0412');
    expect(agentFinalizer(seedView('fra-1'))).toBe('agent.outpost.dev/seed.fra-1');
    expect(isAgentFinalizer('agent.outpost.dev/site.store-0412')).toBe(true);
    expect(isAgentFinalizer('outpost.dev/teardown')).toBe(false);
  });

  it('refuses a view no agent serves', () => {
    expect(() => agentFinalizer('*')).toThrow(/"\*" is not an agent's view/);
    expect(() => agentFinalizer('site/')).toThrow(RangeError);
  });
});
