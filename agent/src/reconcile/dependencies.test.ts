import type { Cluster, Host, ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { clustersUsing } from './dependencies.js';

const cluster = (name: string, spec: NonNullable<Cluster['spec']>, namespace = 'p1'): Cluster => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Cluster', metadata: { name, namespace }, spec });
const host = (name: string, labels: Record<string, string>): Host => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Host', metadata: { name, labels }, spec: { site: 's' } });
const obj = (kind: string, name: string, spec: object = {}, namespace = ''): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, namespace }, spec });
const names = (keys: Array<{ name: string }>) => keys.map((k) => k.name);

const clusters = [
  cluster('a', { version: '1.34.4', datacenter: 'dc1', sshKeys: ['ops'], controlPlane: { mode: 'kubeadm', hostSelector: { role: 'cp' } } }),
  cluster('b', { version: 'v1.33.0', datacenter: 'dc2', workers: [{ name: 'w', hostSelector: { pool: 'edge' } }, { name: 'x', hosts: ['h9'] }] }),
  cluster('c', { version: '1.34.4', datacenter: 'dc1', sshKeys: ['ops'] }, 'p2'),
  cluster('d', { version: '1.34.4', datacenter: 'dc3', controlPlane: { mode: 'kubeadm', hosts: ['h7'] } }),
];

describe('clustersUsing', () => {
  it('finds the Clusters of a Datacenter, by name', () => {
    expect(names(clustersUsing(undefined, obj('Datacenter', 'dc1'), clusters))).toEqual(['a', 'c']);
  });

  it('finds the Clusters that name an SSH key in their own project only', () => {
    expect(names(clustersUsing(undefined, obj('SSHKey', 'ops', {}, 'p1'), clusters))).toEqual(['a']);
    expect(names(clustersUsing(undefined, obj('SSHKey', 'other', {}, 'p1'), clusters))).toEqual([]);
  });

  it('finds the Clusters of a Release by version, with or without the leading v', () => {
    expect(names(clustersUsing(undefined, obj('Release', 'r', { version: 'v1.34.4' }), clusters))).toEqual(['a', 'c', 'd']);
    expect(names(clustersUsing(obj('Release', 'r', { version: '1.33.0' }), undefined, clusters))).toEqual(['b']);
  });

  it('finds the Clusters that select a Host, as it was and as it is', () => {
    expect(names(clustersUsing(undefined, host('h1', { role: 'cp' }), clusters))).toEqual(['a']);
    expect(names(clustersUsing(host('h1', { role: 'cp' }), host('h1', { pool: 'edge' }), clusters))).toEqual(['a', 'b']);
    expect(names(clustersUsing(undefined, host('h9', {}), clusters))).toEqual(['b']);
    expect(names(clustersUsing(undefined, host('h7', {}), clusters))).toEqual(['d']);
    expect(names(clustersUsing(undefined, host('h2', { other: 'x' }), clusters))).toEqual([]);
  });

  it('ignores kinds that Clusters do not depend on', () => {
    expect(clustersUsing(undefined, obj('Site', 's'), clusters)).toEqual([]);
  });
});
