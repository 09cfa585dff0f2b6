// Turns a view sync into Changes envelopes, each below the chunk size, so a large snapshot never makes
// a frame the agent must refuse. Pure.
import { pb, resourceToWire, type Change, type Envelope, type ResourceObject } from '@outpost/proto';
import type { ViewSync } from '../store/store.js';

function ref(o: { kind: string; metadata?: { namespace?: string | null; name?: string | null; uid?: string | null } }) {
  return { kind: o.kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '' };
}

export function changesFrames(sync: ViewSync, since: number, chunkBytes: number): Envelope[] {
  const changes: Change[] = [
    ...sync.upserts.map((o: ResourceObject) => ({ ref: ref(o), object: resourceToWire(o, false) })),
    ...sync.removals.map((k) => ({ ref: { kind: k.kind, namespace: k.namespace, name: k.name }, deleted: true })),
  ];
  const frames: Envelope[] = [];
  let batch: Change[] = [];
  let bytes = 0;
  const flush = (more: boolean): void => {
    frames.push({ changes: { snapshot: sync.snapshot, revision: sync.revision, since, changes: batch, more } });
    batch = [];
    bytes = 0;
  };
  for (const ch of changes) {
    const size = pb.Change.encode(ch).len + 8;
    if (batch.length > 0 && bytes + size > chunkBytes) flush(true);
    batch.push(ch);
    bytes += size;
  }
  flush(false);
  return frames;
}
