import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../state/local-state.js';
import { stampReport } from './stamp-report.js';

const ref = { kind: 'Cluster', namespace: 'p', name: 'c' };
const T0 = '2025-01-01T00:00:00Z';
const NOW = new Date(Date.UTC(2025, 5, 1, 12, 0, 0, 500));

describe('stampReport', () => {
  it('stamps new and changed conditions with now, and keeps the last report\'s time for unchanged ones', () => {
    const previous: StatusReport = { ref, cluster: { conditions: [{ type: 'Received', status: 'True', lastTransitionTime: T0 }, { type: 'Ready', status: 'False', lastTransitionTime: T0 }] } };
    const next: StatusReport = { ref, cluster: { phase: 'Running', conditions: [{ type: 'Received', status: 'True', observedGeneration: 2 }, { type: 'Ready', status: 'True' }, { type: 'New', status: 'Unknown' }] } };
    expect(stampReport(previous, next, NOW)).toEqual({
      ref,
      cluster: {
        phase: 'Running',
        conditions: [
          { type: 'Received', status: 'True', observedGeneration: 2, lastTransitionTime: T0 },
          { type: 'Ready', status: 'True', lastTransitionTime: '2025-06-01T12:00:00Z' },
          { type: 'New', status: 'Unknown', lastTransitionTime: '2025-06-01T12:00:00Z' },
        ],
      },
    });
  });

  it('stamps a first report, keeps a time the reconciler set, and leaves a report without conditions alone', () => {
    const host: StatusReport = { ref: { kind: 'Host', name: 'h' }, host: { conditions: [{ type: 'Joined', status: 'True' }, { type: 'Seen', status: 'True', lastTransitionTime: T0 }] } };
    expect(stampReport(undefined, host, NOW).host?.conditions).toEqual([
      { type: 'Joined', status: 'True', lastTransitionTime: '2025-06-01T12:00:00Z' },
      { type: 'Seen', status: 'True', lastTransitionTime: T0 },
    ]);
    const bare: StatusReport = { ref, cluster: { phase: 'Creating' } };
    expect(stampReport(undefined, bare, NOW)).toBe(bare);
  });
});
