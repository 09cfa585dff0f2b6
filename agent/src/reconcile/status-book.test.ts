import { describe, expect, it } from 'vitest';
import { StatusBook } from './status-book.js';

const key = { kind: 'Cluster', namespace: 'p', name: 'a' };
const ref = { kind: 'Cluster', namespace: 'p', name: 'a', uid: 'u' };
const at = (iso: string) => () => new Date(iso);
const reports = (book: StatusBook) => book.drain().map((d) => d.report(ref));

describe('StatusBook', () => {
  it('merges reports of one object into one status, conditions by type', () => {
    const book = new StatusBook(() => undefined, at('2026-12-01T10:00:00Z'));
    book.merge(key, { observedGeneration: 2, conditions: [{ type: 'Received', status: 'True' }] });
    book.merge(key, { phase: 'Creating', conditions: [{ type: 'EtcdReady', status: 'False' }] });
    expect(reports(book)).toEqual([{ ref, cluster: { observedGeneration: 2, phase: 'Creating', conditions: [
      { type: 'Received', status: 'True', lastTransitionTime: '2026-12-01T10:00:00Z' },
      { type: 'EtcdReady', status: 'False', lastTransitionTime: '2026-12-01T10:00:00Z' },
    ] } }]);
  });

  it('sends nothing when nothing changed, and keeps a condition time until its status changes', () => {
    let now = new Date('2026-12-01T10:00:00Z');
    const book = new StatusBook(() => undefined, () => now);
    book.merge(key, { conditions: [{ type: 'Received', status: 'True' }] });
    expect(book.drain()).toHaveLength(1);
    now = new Date('2026-12-01T11:00:00Z');
    book.merge(key, { conditions: [{ type: 'Received', status: 'True' }] });
    expect(book.drain()).toEqual([]);
    book.merge(key, { conditions: [{ type: 'Received', status: 'False' }] });
    expect(reports(book)[0]?.cluster?.conditions?.[0]?.lastTransitionTime).toBe('2026-12-01T11:00:00Z');
  });

  it('leaves a burst as one status, and a flow that ran again to the same end as none', () => {
    const book = new StatusBook(() => undefined);
    const op = (state: string, progress: number, time: string) => ({ lastOperation: { type: 'Reconcile', state, progress, step: '', lastUpdateTime: time } });
    book.merge(key, op('Processing', 0, 't1'));
    book.merge(key, op('Succeeded', 100, 't2'));
    expect(reports(book).map((r) => r.cluster?.lastOperation?.state)).toEqual(['Succeeded']);
    book.merge(key, op('Processing', 0, 't3'));
    book.merge(key, op('Succeeded', 100, 't4'));
    expect(book.drain()).toEqual([]);
  });

  it('starts from what the local state says was last reported, so a restart re-sends nothing', () => {
    const book = new StatusBook(() => ({ ref, cluster: { conditions: [{ type: 'Received', status: 'True', lastTransitionTime: '2026-11-30T08:00:00Z' }] } }));
    book.merge(key, { conditions: [{ type: 'Received', status: 'True' }] });
    expect(book.drain()).toEqual([]);
    book.merge(key, { phase: 'Running' });
    expect(reports(book)).toEqual([{ ref, cluster: { phase: 'Running', conditions: [{ type: 'Received', status: 'True', lastTransitionTime: '2026-11-30T08:00:00Z' }] } }]);
  });

  it('reports nothing for a kind agents do not report', () => {
    const book = new StatusBook(() => undefined);
    book.merge({ kind: 'Datacenter', namespace: '', name: 'dc' }, { conditions: [{ type: 'X', status: 'True' }] });
    expect(book.drain()).toEqual([]);
  });

  it('forgets an object', () => {
    const book = new StatusBook(() => undefined);
    book.merge(key, { phase: 'Running' });
    book.forget(key);
    expect(book.drain()).toEqual([]);
  });
});
