// When a pod deleted by another hand counts as back.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podsReplaced } from './component-health.js';

const pod = (uid: string, ready: boolean, terminating = false): V1Pod => ({
  metadata: { name: `etcd-${uid}`, uid, ...(terminating ? { deletionTimestamp: new Date() } : {}) },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('podsReplaced', () => {
  const gone = new Set(['old']);
  it('waits while the deleted pod is still there, even ready and terminating', () => {
    expect(podsReplaced([pod('old', true, true), pod('new', true)], gone)).toEqual({ ready: false, summary: 'waiting for the deleted pod etcd-old to go' });
  });
  it('waits for a replacement, then for it to be ready', () => {
    expect(podsReplaced([], gone).ready).toBe(false);
    expect(podsReplaced([pod('new', false)], gone).ready).toBe(false);
    expect(podsReplaced([pod('new', true)], gone)).toEqual({ ready: true, summary: '1/1 pods ready since the deletion' });
  });
  it('ignores another pod on its way out', () => {
    expect(podsReplaced([pod('new', true), pod('older', false, true)], gone).ready).toBe(true);
  });
});
