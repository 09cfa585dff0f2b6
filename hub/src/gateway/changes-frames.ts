// Turns a view sync into Changes envelopes, each below the chunk size, so a large snapshot never makes
// a frame the agent must refuse. Pure.
import { pb, resourceToWire, type Change, type Cluster, type Envelope, type ResourceMessage, type ResourceObject } from '@outpost/proto';
import type { ViewSync } from '../store/store.js';

function ref(o: { kind: string; metadata?: { namespace?: string | null; name?: string | null; uid?: string | null } }) {
  return { kind: o.kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '' };
}

/**
 * An object as a view carries it: desired state only, except a hosted Cluster's endpoint, the one observed
 * fact another agent acts on (its static workers' site agent joins them there; store.ts announces a change
 * of it to that view).
 */
export function viewObject(o: ResourceObject): ResourceMessage {
  const endpoint = o.kind === 'Cluster' && (o as Cluster).spec?.controlPlane?.mode === 'hosted' ? (o as Cluster).status?.endpoint : undefined;
  return endpoint ? resourceToWire({ ...o, status: { endpoint } } as ResourceObject, true) : resourceToWire(o, false);
}

export function changesFrames(sync: ViewSync, since: number, chunkBytes: number): Envelope[] {
  const changes: Change[] = [
    ...sync.upserts.map((o: ResourceObject) => ({ ref: ref(o), object: viewObject(o) })),
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
