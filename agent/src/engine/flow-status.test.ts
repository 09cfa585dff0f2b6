import { describe, expect, it } from 'vitest';
import type { FlowProgress } from './flow-progress.js';
import { lastErrors, lastOperation } from './flow-status.js';

const failed: FlowProgress = {
  state: 'Failed',
  percent: 60,
  currentSteps: ['join-worker-2', 'join-worker-3'],
  errors: [
    { step: 'join-worker-2', host: 'w2.shop-12', message: 'ssh: handshake failed', time: '2026-05-01T10:00:00.000Z', attempt: 3 },
    { step: 'join-worker-3', message: 'kubeadm join: exit 1', time: '2026-05-01T10:00:02.000Z', attempt: 1 },
  ],
  time: '2026-05-01T10:00:05.000Z',
};

describe('lastOperation and lastErrors', () => {
  it("map a flow's progress onto the status fields every kind carries", () => {
    expect(lastOperation('Create', failed)).toEqual({ type: 'Create', state: 'Failed', progress: 60, step: 'join-worker-2, join-worker-3', lastUpdateTime: '2026-05-01T10:00:05.000Z' });
    expect(lastErrors(failed)).toEqual([
      { step: 'join-worker-2', host: 'w2.shop-12', message: 'ssh: handshake failed', time: '2026-05-01T10:00:00.000Z' },
      { step: 'join-worker-3', host: '', message: 'kubeadm join: exit 1', time: '2026-05-01T10:00:02.000Z' },
    ]);
  });

  it('name no step once the flow has succeeded', () => {
    const done: FlowProgress = { state: 'Succeeded', percent: 100, currentSteps: [], errors: [], time: '2026-05-01T10:01:00.000Z' };
    expect(lastOperation('Reconcile', done)).toEqual({ type: 'Reconcile', state: 'Succeeded', progress: 100, step: '', lastUpdateTime: '2026-05-01T10:01:00.000Z' });
    expect(lastErrors(done)).toEqual([]);
  });
});
