// Which watch events are drift to put back, and which are the agent's own applies or the seed's bookkeeping.
import { describe, expect, it } from 'vitest';
import { driftOf, foreignWrites, isCurrentRevision, type WatchedObject } from './drift.js';

const OURS = 'outpost-agent';
const T0 = '2026-12-01T10:00:00Z';
const T1 = '2026-12-01T10:05:00Z';
const labels = { 'outpost.dev/project': 'p', 'outpost.dev/cluster': 'c1', 'outpost.dev/component': 'kube-scheduler' };

type Entry = { manager: string; operation: string; time: Date; subresource?: string; fieldsV1: object };
const applied: Entry = { manager: OURS, operation: 'Apply', time: new Date(T0), fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': { 'f:replicas': {} } } };
const status: Entry = { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: new Date(T1), fieldsV1: { 'f:status': { 'f:replicas': {} } } };
const revision: Entry = { manager: 'kube-controller-manager', operation: 'Update', time: new Date(T1), fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } } } };
const setImage = (time: string): Entry => ({ manager: 'kubectl-set', operation: 'Update', time: new Date(time), fieldsV1: { 'f:spec': { 'f:template': {} } } });

const deployment = (...managedFields: Entry[]): WatchedObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'kube-scheduler', namespace: 'cluster-p-c1', uid: 'u1', labels, managedFields } });
const facts = (seen: WatchedObject | undefined, currentRevision?: boolean) => ({ seenWrites: seen ? foreignWrites(seen, OURS) : undefined, ours: OURS, ...(currentRevision !== undefined ? { currentRevision } : {}) });

describe('driftOf', () => {
  it('takes a hand edit of a Deployment for drift, naming who made it', () => {
    const before = deployment(applied, revision);
    const after = deployment(applied, revision, setImage(T1));
    expect(driftOf('update', 'Deployment', after, facts(before))).toEqual({ component: 'kube-scheduler', note: 'Deployment kube-scheduler was changed by kubectl-set' });
  });

  it("ignores the agent's own applies, status writes and the Deployment controller's revision annotation", () => {
    const before = deployment(applied);
    const after = deployment({ ...applied, time: new Date(T1) }, status, revision);
    expect(driftOf('update', 'Deployment', after, facts(before))).toBeUndefined();
  });

  it('ignores the echo of its own put-back: the forced apply took the fields, the foreign entry is gone', () => {
    const edited = deployment(applied, setImage(T1));
    expect(driftOf('update', 'Deployment', deployment({ ...applied, time: new Date(T1) }), facts(edited))).toBeUndefined();
  });

  it('ignores later events on an object whose foreign writer wrote nothing new (a field the agent does not set)', () => {
    const edited = deployment(applied, setImage(T1));
    expect(driftOf('update', 'Deployment', deployment(applied, setImage(T1), status), facts(edited))).toBeUndefined();
    // The same writer writing again is drift again; a list's Date and a watch's string are the same time.
    expect(driftOf('update', 'Deployment', deployment(applied, setImage('2026-12-01T10:09:00Z')), facts(edited))).toBeDefined();
    expect(driftOf('update', 'Deployment', deployment(applied, { ...setImage(T1), time: new Date(T1) }), facts(edited))).toBeUndefined();
  });

  it('takes a kubectl scale (through /scale) and a Secret edit for drift', () => {
    const scaled = deployment(applied, { manager: 'kubectl', operation: 'Update', subresource: 'scale', time: new Date(T1), fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(driftOf('update', 'Deployment', scaled, facts(deployment(applied)))?.note).toBe('Deployment kube-scheduler was changed by kubectl');
    const secret = (...m: Entry[]): WatchedObject => ({ kind: 'Secret', metadata: { name: 'etcd-certs', uid: 's1', labels: { ...labels, 'outpost.dev/component': 'pki' }, managedFields: m } });
    const edited = secret(applied, { manager: 'kubectl-edit', operation: 'Update', time: new Date(T1), fieldsV1: { 'f:data': { 'f:server.crt': {} } } });
    expect(driftOf('update', 'Secret', edited, facts(secret(applied)))).toEqual({ component: 'pki', note: 'Secret etcd-certs was changed by kubectl-edit' });
  });

  it('takes any deletion of an object the agent applies for drift, and no first sight', () => {
    expect(driftOf('delete', 'Service', { kind: 'Service', metadata: { name: 'etcd-client', labels: { ...labels, 'outpost.dev/component': 'etcd' } } }, facts(undefined))).toEqual({ component: 'etcd', note: 'Service etcd-client was deleted' });
    // An object made (or found at start) with a foreign writer is no change: the start reconciles it anyway.
    expect(driftOf('add', 'Deployment', deployment(applied, setImage(T0)), facts(undefined))).toBeUndefined();
    expect(driftOf('update', 'Deployment', deployment(applied, setImage(T0)), facts(undefined))).toBeUndefined();
    expect(driftOf('delete', 'ReplicaSet', deployment(), facts(undefined))).toBeUndefined();
  });

  it("notes a pod of the current revision going, not one a roll replaces, nor a pod's own updates", () => {
    const pod = (deleting: boolean): WatchedObject => ({ kind: 'Pod', metadata: { name: 'etcd-0', uid: 'p1', labels: { ...labels, 'outpost.dev/component': 'etcd' }, ...(deleting ? { deletionTimestamp: new Date(T1) } : {}) } });
    expect(driftOf('update', 'Pod', pod(true), facts(undefined, true))).toEqual({ component: 'etcd', note: 'Pod etcd-0 was deleted', podUid: 'p1' });
    expect(driftOf('delete', 'Pod', pod(false), facts(undefined, true))).toBeDefined();
    expect(driftOf('delete', 'Pod', pod(false), facts(undefined))).toBeDefined();
    expect(driftOf('delete', 'Pod', pod(false), facts(undefined, false))).toBeUndefined();
    expect(driftOf('update', 'Pod', pod(false), facts(undefined, true))).toBeUndefined();
    expect(driftOf('add', 'Pod', pod(false), facts(undefined, true))).toBeUndefined();
  });
});

describe('isCurrentRevision', () => {
  const objects: Record<string, WatchedObject> = {
    'StatefulSet/etcd': { kind: 'StatefulSet', metadata: { name: 'etcd' }, status: { updateRevision: 'etcd-2' } },
    'Deployment/kube-apiserver': { kind: 'Deployment', metadata: { name: 'kube-apiserver', annotations: { 'deployment.kubernetes.io/revision': '3' } } },
    'ReplicaSet/new': { kind: 'ReplicaSet', metadata: { name: 'new', annotations: { 'deployment.kubernetes.io/revision': '3' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'kube-apiserver', uid: 'd', controller: true }] } },
    'ReplicaSet/old': { kind: 'ReplicaSet', metadata: { name: 'old', annotations: { 'deployment.kubernetes.io/revision': '2' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'kube-apiserver', uid: 'd', controller: true }] } },
  };
  const lookup = (kind: string, _ns: string, name: string) => objects[`${kind}/${name}`];
  const pod = (kind: string, owner: string, hash?: string): WatchedObject => ({ kind: 'Pod', metadata: { name: 'x', ...(hash ? { labels: { 'controller-revision-hash': hash } } : {}), ownerReferences: [{ apiVersion: 'apps/v1', kind, name: owner, uid: 'o', controller: true }] } });

  it("compares a StatefulSet pod's revision with the StatefulSet's update revision", () => {
    expect(isCurrentRevision(pod('StatefulSet', 'etcd', 'etcd-2'), lookup)).toBe(true);
    expect(isCurrentRevision(pod('StatefulSet', 'etcd', 'etcd-1'), lookup)).toBe(false);
  });

  it("compares a Deployment pod's ReplicaSet revision with the Deployment's", () => {
    expect(isCurrentRevision(pod('ReplicaSet', 'new'), lookup)).toBe(true);
    expect(isCurrentRevision(pod('ReplicaSet', 'old'), lookup)).toBe(false);
  });

  it('cannot tell for a pod whose owner it has not seen', () => {
    expect(isCurrentRevision(pod('ReplicaSet', 'gone'), lookup)).toBeUndefined();
    expect(isCurrentRevision({ kind: 'Pod', metadata: { name: 'bare' } }, lookup)).toBeUndefined();
  });
});
