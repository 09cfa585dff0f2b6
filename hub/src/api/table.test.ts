import type { ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { HubError } from '../errors.js';
import { acceptedTable, parseIncludeObject, tableWatchObjects, toTable } from './table.js';

const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const NOW = Date.parse('2026-12-01T10:00:00Z');

const agent = (name: string, connected: boolean, rv = '7'): ResourceObject =>
  ({
    apiVersion: 'outpost.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name, resourceVersion: rv, creationTimestamp: '2026-12-01T09:59:00Z' },
    spec: { role: 'site', site: 'store-0412' },
    status: { connected, ackedRevision: 41, version: '0.1.0', lastSeen: '2026-12-01T09:59:50Z' },
  }) as ResourceObject;

describe('acceptedTable', () => {
  it('takes what kubectl get asks for first, in order', () => {
    expect(acceptedTable(KUBECTL_GET)).toBe('v1');
    expect(acceptedTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json')).toBe('v1beta1');
    expect(acceptedTable('application/json, application/json;as=Table;v=v1;g=meta.k8s.io')).toBeUndefined();
    expect(acceptedTable(undefined)).toBeUndefined();
    expect(acceptedTable('*/*')).toBeUndefined();
  });

  it('skips what it cannot serve, and says what it serves when nothing is left', () => {
    expect(acceptedTable('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json')).toBeUndefined();
    expect(acceptedTable('application/json;as=Table;v=v2;g=meta.k8s.io;q=0.9,application/json;as=Table;v=v1;g=meta.k8s.io')).toBe('v1');
    expect(() => acceptedTable('application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io')).toThrow(HubError);
    expect(() => acceptedTable('application/vnd.kubernetes.protobuf')).toThrow(/serves application\/json, and application\/json;as=Table;g=meta.k8s.io;v=v1/);
  });
});

describe('parseIncludeObject', () => {
  it('defaults to Metadata and refuses other values, as kube-apiserver does', () => {
    expect(parseIncludeObject(undefined)).toBe('Metadata');
    expect(parseIncludeObject('Object')).toBe('Object');
    expect(parseIncludeObject('None')).toBe('None');
    expect(() => parseIncludeObject('All')).toThrow(/includeObject=All is not Object, Metadata or None/);
  });
});

describe('toTable', () => {
  it('has the kind\'s printer columns and a row of typed cells per object', () => {
    const t = toTable('Agent', [agent('a1', true), agent('a2', false)], '9', { version: 'v1', includeObject: 'Metadata' }, { now: NOW });
    expect([t.kind, t.apiVersion, t.metadata]).toEqual(['Table', 'meta.k8s.io/v1', { resourceVersion: '9' }]);
    expect(t.columnDefinitions!.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0], ['Role', 'string', 0], ['Serves', 'string', 0], ['Connected', 'boolean', 0], ['Acked', 'integer', 0],
      ['Version', 'string', 0], ['Last-Seen', 'string', 0], ['Revoked', 'boolean', 0], ['Address', 'string', 1], ['Connected-Since', 'string', 1],
      ['Age', 'date', 0],
    ]);
    expect(t.columnDefinitions![0]!.format).toBe('name');
    expect(t.rows[0]!.cells).toEqual(['a1', 'site', 'store-0412', true, 41, '0.1.0', '10s', false, '<none>', '<none>', '60s']);
    expect(t.rows[1]!.cells[3]).toBe(false);
    expect(t.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: agent('a1', true).metadata });
  });

  it('carries the whole object, or none, when asked', () => {
    const whole = toTable('Agent', [agent('a1', true)], '9', { version: 'v1beta1', includeObject: 'Object' }, { now: NOW });
    expect(whole.rows[0]!.object).toEqual(agent('a1', true));
    expect(whole.apiVersion).toBe('meta.k8s.io/v1beta1');
    expect(toTable('Agent', [agent('a1', true)], '9', { version: 'v1', includeObject: 'None' }).rows[0]!.object).toBeNull();
  });

  it('gives a kind without columns of its own Name and Age', () => {
    expect(toTable('Project', [], '3', { version: 'v1', includeObject: 'None' }).columnDefinitions!.map((c) => c.name)).toEqual(['Name', 'Age']);
  });
});

describe('tableWatchObjects', () => {
  it('sends the column definitions in the first event only, and a BOOKMARK as an empty Table', () => {
    const present = tableWatchObjects('Agent', { version: 'v1', includeObject: 'Metadata' }, () => NOW);
    const first = present('ADDED', agent('a1', true, '7'));
    const second = present('MODIFIED', agent('a1', false, '8'));
    expect(first.columnDefinitions).toHaveLength(11);
    expect(second.columnDefinitions).toBeUndefined();
    expect([second.metadata.resourceVersion, second.rows[0]!.cells[3]]).toEqual(['8', false]);
    expect(present('BOOKMARK', { apiVersion: 'outpost.dev/v1alpha1', kind: 'Agent', metadata: { resourceVersion: '12' } })).toEqual({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '12' }, rows: [] });
  });
});
