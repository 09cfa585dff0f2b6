// The pure parts of server-side apply: field sets, FieldsV1, Update ownership and the apply merge.
import { findKind, type ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { FieldSet, fieldSetOf, fromFieldsV1, pathString, toFieldsV1 } from './field-set.js';
import { capUpdateManagers, decodeManagers, defaultFieldManager, MAX_UPDATE_MANAGERS, recordUpdate, sameButForTimes, withManagers, type ManagedFieldsEntryJson, type Manager } from './managed-fields.js';
import { applyConfiguration, ApplyConflictError } from './server-side-apply.js';

type Json = any;
const GV = 'outpost.dev/v1alpha1';
const CLUSTER = findKind('clusters')!;
const T1 = '2026-12-01T09:00:00Z';
const T2 = '2026-12-01T09:05:00Z';

const cluster = (spec: Json, metadata: Json = {}): ResourceObject => ({ apiVersion: GV, kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo', ...metadata }, spec });
const paths = (s: FieldSet): string[] => [...s].map(pathString).sort();
const managersOf = (o: ResourceObject): Manager[] => decodeManagers(o.metadata.managedFields as ManagedFieldsEntryJson[]);
const owned = (o: ResourceObject, manager: string): string[] => paths(managersOf(o).find((m) => m.manager === manager)?.fields ?? new FieldSet());

describe('field sets', () => {
  it('lists the leaves a manager can own: owned metadata and spec, keyed lists by key, sets by value, other lists whole', () => {
    const obj = cluster(
      { version: '1.33.0', controlPlane: { mode: 'kubeadm', hostSelector: { rack: 'a' } }, workers: [{ name: 'w', hosts: ['h1', 'h2'] }], sshKeys: ['k'], network: {} },
      { labels: { app: 'pos' }, uid: 'u', resourceVersion: '5', finalizers: ['x'] },
    );
    expect(paths(fieldSetOf(CLUSTER, { ...obj, status: { phase: 'Running' } } as ResourceObject))).toEqual([
      '.metadata.finalizers[="x"]',
      '.metadata.labels.app',
      '.spec.controlPlane.hostSelector.rack',
      '.spec.controlPlane.mode',
      '.spec.sshKeys[="k"]',
      '.spec.version',
      '.spec.workers[name="w"]',
      '.spec.workers[name="w"].hosts[="h1"]',
      '.spec.workers[name="w"].hosts[="h2"]',
      '.spec.workers[name="w"].name',
    ]);
  });

  it('reads status apart, its conditions keyed by type, for the /status managers', () => {
    const obj = { ...cluster({ version: '1' }), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], lastErrors: [{ step: 's' }] } } as ResourceObject;
    expect(paths(fieldSetOf(CLUSTER, obj, 'status'))).toEqual(['.status.conditions[type="Ready"]', '.status.conditions[type="Ready"].status', '.status.conditions[type="Ready"].type', '.status.lastErrors', '.status.phase']);
  });

  it('takes a keyed list whole when its keys are missing or repeated', () => {
    expect(paths(fieldSetOf(CLUSTER, cluster({ addons: [{ name: 'a' }, { name: 'a' }] })))).toEqual(['.spec.addons']);
    expect(paths(fieldSetOf(CLUSTER, cluster({ addons: [{ params: { x: '1' } }] })))).toEqual(['.spec.addons']);
  });

  it('round-trips through FieldsV1 as Kubernetes writes it, with "." for an item that has children', () => {
    const set = fieldSetOf(CLUSTER, cluster({ version: '1', workers: [{ name: 'w' }] }));
    const trie = toFieldsV1(set);
    expect(trie).toEqual({ 'f:spec': { 'f:version': {}, 'f:workers': { 'k:{"name":"w"}': { '.': {}, 'f:name': {} } } } });
    expect(paths(fromFieldsV1(trie))).toEqual(paths(set));
    expect(() => fromFieldsV1({ 'x:nope': {} })).toThrow(/not a FieldsV1 path element/);
    expect(() => fromFieldsV1({ 'f:spec': 'leaf' })).toThrow(/must be an object/);
  });
});

describe('managed fields of updates', () => {
  it('gives the updater what it changed and takes it from the others; removed fields are no one\'s', () => {
    const v1 = cluster({ version: '1.33.0', datacenter: 'dc' }, { labels: { a: '1' } });
    let managers = recordUpdate(CLUSTER, [], undefined, v1, 'creator', T1);
    expect(managers.map((m) => [m.manager, m.operation, paths(m.fields)])).toEqual([['creator', 'Update', ['.metadata.labels.a', '.spec.datacenter', '.spec.version']]]);
    const v2 = cluster({ version: '1.34.0', datacenter: 'dc' });
    managers = recordUpdate(CLUSTER, managers, v1, v2, 'kubectl-edit', T2);
    expect(managers.map((m) => [m.manager, paths(m.fields), m.time])).toEqual([
      ['creator', ['.spec.datacenter'], T1],
      ['kubectl-edit', ['.spec.version'], T2],
    ]);
    // A write that changes nothing stamps no one.
    expect(recordUpdate(CLUSTER, managers, v2, v2, 'idle', T2).map((m) => m.manager)).toEqual(['creator', 'kubectl-edit']);
  });

  it('stays bounded: the oldest Update managers merge into ancient-changes', () => {
    let obj = cluster({ version: '1.0.0' });
    let managers: Manager[] = [];
    for (let i = 0; i < MAX_UPDATE_MANAGERS + 3; i++) {
      const next = cluster({ version: '1.0.0', addons: [{ name: `a${i}` }] });
      managers = recordUpdate(CLUSTER, managers, obj, { ...next, metadata: { ...next.metadata, labels: { [`l${i}`]: 'x' } } }, `m${i}`, `2026-12-01T09:${String(i).padStart(2, '0')}:00Z`);
      obj = next;
    }
    expect(managers.length).toBe(MAX_UPDATE_MANAGERS);
    expect(managers[0]!.manager).toBe('ancient-changes');
    expect(capUpdateManagers(managers)).toBe(managers);
  });

  it('derives the manager from the User-Agent as kube-apiserver does, else the caller', () => {
    expect(defaultFieldManager('kubectl-edit/v1.33.0 (linux/amd64) kubernetes/abc', 'admin')).toBe('kubectl-edit');
    expect(defaultFieldManager(undefined, 'token/abc123')).toBe('token/abc123');
  });

  it('tells a write that only restamps times from one that changes something', () => {
    const a = cluster({ version: '1' });
    const withTime = (t: string): ResourceObject => ({ ...a, metadata: { ...a.metadata, managedFields: [{ manager: 'm', operation: 'Apply', time: t, fieldsV1: {} }] as never } });
    expect(sameButForTimes(withTime(T1), withTime(T2))).toBe(true);
    expect(sameButForTimes(withTime(T1), { ...withTime(T1), spec: { version: '2' } })).toBe(false);
  });
});

describe('server-side apply', () => {
  const apply = (live: ResourceObject | undefined, config: ResourceObject, manager: string, force = false, time = T1): ResourceObject =>
    applyConfiguration({ kind: CLUSTER, live, config, manager, force, time });

  it('creates with the applier owning what it sent, and leaves status out', () => {
    const created = apply(undefined, { ...cluster({ version: '1.33.0', datacenter: 'dc' }), status: { phase: 'Running' } } as ResourceObject, 'ci');
    expect(created.status).toBeUndefined();
    expect(created.metadata.managedFields).toEqual([{ manager: 'ci', operation: 'Apply', apiVersion: GV, time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:datacenter': {}, 'f:version': {} } } }]);
  });

  it('removes what the applier sent before and sends no more, unless another manager owns it', () => {
    const v1 = apply(undefined, cluster({ version: '1.33.0', datacenter: 'dc', sshKeys: ['a', 'b'] }, { labels: { x: '1', y: '2' } }), 'ci');
    // Someone else takes label y (an Update), so it stays when ci stops sending it.
    const edited = { ...v1, metadata: { ...v1.metadata, labels: { x: '1', y: '3' } } };
    const v2 = withManagers(edited, recordUpdate(CLUSTER, managersOf(v1), v1, edited, 'kubectl-edit', T1));
    const v3 = apply(v2, cluster({ version: '1.33.0', sshKeys: ['b'] }), 'ci');
    expect(v3.metadata.labels).toEqual({ y: '3' });
    expect(v3.spec).toEqual({ version: '1.33.0', sshKeys: ['b'] });
    expect(owned(v3, 'ci')).toEqual(['.spec.sshKeys[="b"]', '.spec.version']);
    expect(owned(v3, 'kubectl-edit')).toEqual(['.metadata.labels.y']);
  });

  it('merges keyed lists item by item and sets member by member, so two appliers share a list', () => {
    const a = apply(undefined, cluster({ version: '1', workers: [{ name: 'w1', hosts: ['h1'] }] }), 'team-a');
    const b = apply(a, cluster({ workers: [{ name: 'w2', hosts: ['h2'] }, { name: 'w1', hosts: ['h3'] }] }), 'team-b');
    expect((b.spec as Json).workers).toEqual([{ name: 'w1', hosts: ['h1', 'h3'] }, { name: 'w2', hosts: ['h2'] }]);
    // team-a drops w1: it goes only as far as team-a owned it; team-b's host h3 in it stays.
    const c = apply(b, cluster({ version: '1' }), 'team-a');
    expect((c.spec as Json).workers).toEqual([{ name: 'w1', hosts: ['h3'] }, { name: 'w2', hosts: ['h2'] }]);
  });

  it('refuses to change a field another manager owns, naming each field and manager as Kubernetes does', () => {
    const a = apply(undefined, cluster({ version: '1.33.0', datacenter: 'dc' }, { labels: { team: 'a' } }), 'team-a');
    // The same value is no conflict: both own it.
    const shared = apply(a, cluster({ version: '1.33.0' }), 'team-b');
    expect(owned(shared, 'team-b')).toEqual(['.spec.version']);
    expect(owned(shared, 'team-a')).toContain('.spec.version');
    let err: unknown;
    try {
      apply(shared, cluster({ version: '1.34.0', datacenter: 'other' }), 'team-b');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplyConflictError);
    const conflict = err as ApplyConflictError;
    expect(conflict.status).toBe(409);
    expect(conflict.message).toMatch(/^Apply failed with 2 conflicts: conflicts with "team-a":\n- \.spec\.datacenter\n- \.spec\.version/);
    expect(conflict.causeReason).toBe('FieldManagerConflict');
    expect([...conflict.causes].sort((x, y) => x.field.localeCompare(y.field))).toEqual([
      { field: '.spec.datacenter', message: 'conflict with "team-a"' },
      { field: '.spec.version', message: 'conflict with "team-a"' },
    ]);
    expect(() => apply(shared, cluster({ version: '1.34.0' }), 'team-b')).toThrow(/^Apply failed with 1 conflict: conflict with "team-a": \.spec\.version/);
  });

  it('names an Update manager with its API version, and conflicts with whoever wrote an unmanaged object first', () => {
    const unmanaged = cluster({ version: '1.33.0' });
    expect(() => apply(unmanaged, cluster({ version: '1.34.0' }), 'ci')).toThrow(`conflict with "before-first-apply" using ${GV}: .spec.version`);
  });

  it('takes the fields with force, and the loser owns them no more', () => {
    const a = apply(undefined, cluster({ version: '1.33.0', datacenter: 'dc' }), 'team-a');
    const b = apply(a, cluster({ version: '1.34.0' }), 'team-b', true, T2);
    expect((b.spec as Json).version).toBe('1.34.0');
    expect(owned(b, 'team-a')).toEqual(['.spec.datacenter']);
    expect(owned(b, 'team-b')).toEqual(['.spec.version']);
    // Re-applying team-a's old configuration now conflicts the other way.
    expect(() => apply(b, cluster({ version: '1.33.0', datacenter: 'dc' }), 'team-a')).toThrow(/conflict with "team-b": \.spec\.version/);
  });

  it('refuses a keyed list without keys or with repeated ones, and a set with a repeated member', () => {
    expect(() => apply(undefined, cluster({ workers: [{ name: 'w' }, { name: 'w' }], sshKeys: ['k', 'k'] }), 'ci')).toThrow(/spec\.workers: every item needs name.*spec\.sshKeys: lists a value twice/);
  });
});
