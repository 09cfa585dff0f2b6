import { decodeEnvelope, encodeEnvelope, resourceFromWire } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { changesFrames, viewObject } from './changes-frames.js';

const cluster = (i: number) => ({
  apiVersion: 'outpost.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: `c-${i}`, namespace: 'p', generation: 1 },
  spec: { version: '1.33.0', datacenter: 'dc', sshKeys: ['k'.repeat(200)] },
  status: { phase: 'Running' },
});

describe('changesFrames', () => {
  it('splits a large sync into frames under the chunk size, all but the last marked more', () => {
    const upserts = Array.from({ length: 500 }, (_, i) => cluster(i));
    const frames = changesFrames({ snapshot: true, revision: 42, upserts, removals: [{ kind: 'Host', namespace: '', name: 'h' }] }, 0, 16 * 1024);
    expect(frames.length).toBeGreaterThan(5);
    frames.forEach((f, i) => {
      const bytes = encodeEnvelope(f);
      expect(bytes.byteLength).toBeLessThan(16 * 1024 + 512);
      const back = decodeEnvelope(bytes).changes!;
      expect(back.more).toBe(i < frames.length - 1);
      expect(back.revision).toBe(42);
      expect(back.snapshot).toBe(true);
    });
    const all = frames.flatMap((f) => f.changes!.changes!);
    expect(all).toHaveLength(501);
    expect(all.at(-1)).toMatchObject({ deleted: true, ref: { kind: 'Host', name: 'h' } });
  });

  it('sends objects without status, and an empty delta as one frame', () => {
    const [frame] = changesFrames({ snapshot: false, revision: 7, upserts: [cluster(1)], removals: [] }, 5, 1024 * 1024);
    const obj = resourceFromWire(frame!.changes!.changes![0]!.object!);
    expect(obj?.status).toBeUndefined();
    expect(obj?.spec).toEqual(cluster(1).spec);
    const empty = changesFrames({ snapshot: false, revision: 7, upserts: [], removals: [] }, 7, 1024);
    expect(empty).toEqual([{ changes: { snapshot: false, revision: 7, since: 7, changes: [], more: false } }]);
  });

  it("carries desired state only, but a hosted Cluster's endpoint (its workers' site agent joins them there)", () => {
    const hosted = { ...cluster(1), spec: { ...cluster(1).spec, controlPlane: { mode: 'hosted' } }, status: { phase: 'Running', endpoint: 'https://10.0.0.9:30443' } };
    expect(resourceFromWire(viewObject(hosted))?.status).toEqual({ endpoint: 'https://10.0.0.9:30443' });
    expect(resourceFromWire(viewObject({ ...cluster(2), status: { phase: 'Running', endpoint: 'https://10.0.0.1:6443' } }))?.status).toBeUndefined();
  });
});
