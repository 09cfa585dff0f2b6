import type { ResourceObject } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { age, renderTable } from './table.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

const obj = (kind: string, name: string, extra: Partial<ResourceObject> = {}, namespace?: string): ResourceObject =>
  ({ apiVersion: 'outpost.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra }) as ResourceObject;

/** The table split into rows of cells (columns are separated by at least three spaces). */
const cells = (table: string): string[][] => table.split('\n').map((line) => line.trim().split(/ {3,}/));

describe('age', () => {
  it('counts seconds, minutes, hours and days kubectl style', () => {
    expect(age(ago(0), NOW)).toBe('0s');
    expect(age(ago(119), NOW)).toBe('119s');
    expect(age(ago(120), NOW)).toBe('2m');
    expect(age(ago(7199), NOW)).toBe('119m');
    expect(age(ago(7200), NOW)).toBe('2h');
    expect(age(ago(172_799), NOW)).toBe('47h');
    expect(age(ago(172_800), NOW)).toBe('2d');
    expect(age(ago(30 * 86_400), NOW)).toBe('30d');
  });

  it('says <none> for no timestamp and 0s for one in the future', () => {
    expect(age(undefined, NOW)).toBe('<none>');
    expect(age(null, NOW)).toBe('<none>');
    expect(age('', NOW)).toBe('<none>');
    expect(age(ago(-60), NOW)).toBe('0s');
  });
});

describe('renderTable', () => {
  it('says so when there is nothing', () => {
    expect(renderTable([], false)).toBe('No resources found.');
    expect(renderTable([], true)).toBe('No resources found.');
  });

  it('shows the telling columns of clusters, with the project when asked', () => {
    const pos = obj(
      'Cluster',
      'pos',
      {
        spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 } },
        status: { phase: 'Running', conditions: [{ type: 'Received', status: 'True' }, { type: 'Ready', status: 'False' }] },
      } as Partial<ResourceObject>,
      'demo',
    );
    const bare = obj('Cluster', 'tills', { spec: { version: '1.32.4' } } as Partial<ResourceObject>, 'shop');
    const table = renderTable([pos, bare], true);
    const rows = cells(table);
    expect(rows[0]).toEqual(['PROJECT', 'NAME', 'VERSION', 'DATACENTER', 'MODE', 'PHASE', 'CONDITIONS', 'AGE']);
    expect(rows[1]).toEqual(['demo', 'pos', '1.33.0', 'hamburg-stores', 'kubeadm', 'Running', 'Received=True,Ready=False', '<none>']);
    expect(rows[2]!.slice(0, 3)).toEqual(['shop', 'tills', '1.32.4']);
    const terminating = { ...pos, metadata: { ...pos.metadata, deletionTimestamp: ago(5), finalizers: ['agent.outpost.dev/site.store-0412'] } };
    expect(cells(renderTable([terminating], false))[1]!.slice(4, 6)).toEqual(['Terminating', 'Received=True,Ready=False']);
    expect(rows[2]!.slice(-3)).toEqual(['<none>', '<none>', '<none>']);
    // Columns line up: every header starts where its cells start.
    const lines = table.split('\n');
    const nameAt = lines[0]!.indexOf('NAME');
    expect(lines[1]!.indexOf('pos')).toBe(nameAt);
    expect(lines[2]!.indexOf('tills')).toBe(nameAt);
    expect(lines[1]!.indexOf('Running')).toBe(lines[0]!.indexOf('PHASE'));

    const noProject = cells(renderTable([pos], false));
    expect(noProject[0]).toEqual(['NAME', 'VERSION', 'DATACENTER', 'MODE', 'PHASE', 'CONDITIONS', 'AGE']);
    expect(noProject[1]![0]).toBe('pos');
  });

  it('has headers per kind', () => {
    const header = (o: ResourceObject): string[] => cells(renderTable([o], false))[0]!;
    expect(header(obj('Site', 's'))).toEqual(['NAME', 'LOCATION', 'AGENT', 'AGE']);
    expect(header(obj('Seed', 's'))).toEqual(['NAME', 'LOCATION', 'AGENT', 'AGE']);
    expect(header(obj('Datacenter', 'd'))).toEqual(['NAME', 'PROVIDER', 'SERVED-BY', 'AGE']);
    expect(header(obj('Host', 'h'))).toEqual(['NAME', 'SITE', 'ADDRESS', 'CONDITIONS', 'AGE']);
    expect(header(obj('Token', 't'))).toEqual(['NAME', 'TYPE', 'FOR', 'EXPIRES', 'USED', 'AGE']);
    expect(header(obj('Agent', 'a'))).toEqual(['NAME', 'ROLE', 'SERVES', 'CONNECTED', 'ACKED', 'VERSION', 'LAST-SEEN', 'REVOKED', 'AGE']);
    expect(header(obj('SSHKey', 'k'))).toEqual(['NAME', 'FINGERPRINT', 'AGE']);
    expect(header(obj('Project', 'p'))).toEqual(['NAME', 'AGE']);
  });

  it('fills in the cells of other kinds', () => {
    const row = (o: ResourceObject): string[] => cells(renderTable([o], false))[1]!;
    const created = { creationTimestamp: new Date(Date.now() - 3 * 3600_000 - 5_000).toISOString() };
    expect(row(obj('Site', 'store-0412', { metadata: { name: 'store-0412', ...created }, spec: { location: 'Hamburg' }, status: { agent: 'site-store-0412-abcdef' } } as Partial<ResourceObject>))).toEqual([
      'store-0412',
      'Hamburg',
      'site-store-0412-abcdef',
      '3h',
    ]);
    expect(row(obj('Datacenter', 'hamburg-stores', { spec: { provider: 'edge', site: 'store-0412' } } as Partial<ResourceObject>))).toEqual(['hamburg-stores', 'edge', 'site/store-0412', '<none>']);
    expect(row(obj('Datacenter', 'fra', { spec: { provider: 'baremetal', seed: 'seed-fra' } } as Partial<ResourceObject>))).toEqual(['fra', 'baremetal', 'seed/seed-fra', '<none>']);
    expect(row(obj('Token', 'abcdef', { spec: { type: 'bootstrap', site: 'store-0412', expires: '2025-06-01T13:00:00Z' }, status: { used: true } } as Partial<ResourceObject>))).toEqual([
      'abcdef',
      'bootstrap',
      'site/store-0412',
      '2025-06-01T13:00:00Z',
      'true',
      '<none>',
    ]);
    expect(row(obj('Token', 'ghijkl', { spec: { type: 'api', role: 'editor', project: 'demo' } } as Partial<ResourceObject>))).toEqual(['ghijkl', 'api', 'editor@demo', '<never>', 'false', '<none>']);
    expect(row(obj('Agent', 'site-s-abcdef', { spec: { role: 'site', site: 's' }, status: { connected: true, ackedRevision: 42, version: '0.1.0' } } as Partial<ResourceObject>))).toEqual([
      'site-s-abcdef',
      'site',
      's',
      'true',
      '42',
      '0.1.0',
      '<none>',
      'false',
      '<none>',
    ]);
  });
});

describe('renderTable -o wide', () => {
  it('adds the priority-1 columns of a kind, in place, and only when asked', () => {
    const pos = obj('Cluster', 'pos', {
      spec: { version: '1.33.0', datacenter: 'dc', controlPlane: { mode: 'kubeadm', replicas: 3 } },
      status: { phase: 'Updating', endpoint: 'https://10.0.0.1:6443', lastOperation: { type: 'Upgrade', state: 'Processing', progress: 40, step: 'drain-h2' } },
    } as Partial<ResourceObject>);
    expect(cells(renderTable([pos], false, { wide: true }))).toEqual([
      ['NAME', 'VERSION', 'DATACENTER', 'MODE', 'PHASE', 'CONDITIONS', 'REPLICAS', 'ENDPOINT', 'OPERATION', 'AGE'],
      ['pos', '1.33.0', 'dc', 'kubeadm', 'Updating', '<none>', '3', 'https://10.0.0.1:6443', 'Upgrade Processing 40% (drain-h2)', '<none>'],
    ]);
    expect(cells(renderTable([pos], false))[0]).toEqual(['NAME', 'VERSION', 'DATACENTER', 'MODE', 'PHASE', 'CONDITIONS', 'AGE']);
    const header = (o: ResourceObject): string[] => cells(renderTable([o], false, { wide: true }))[0]!;
    expect(header(obj('Agent', 'a'))).toEqual(['NAME', 'ROLE', 'SERVES', 'CONNECTED', 'ACKED', 'VERSION', 'LAST-SEEN', 'REVOKED', 'ADDRESS', 'CONNECTED-SINCE', 'AGE']);
    expect(header(obj('Host', 'h'))).toEqual(['NAME', 'SITE', 'ADDRESS', 'CONDITIONS', 'CLUSTER', 'ROLE', 'AGE']);
    expect(header(obj('Token', 't'))).toEqual(['NAME', 'TYPE', 'FOR', 'EXPIRES', 'USED', 'AGENT', 'DESCRIPTION', 'AGE']);
    // A kind without wide columns looks the same either way.
    expect(renderTable([obj('Site', 's')], false, { wide: true })).toBe(renderTable([obj('Site', 's')], false));
  });

  it('leaves out the header for a watch', () => {
    expect(renderTable([obj('Site', 's')], false, { noHeaders: true })).toBe('s      <none>   <none>');
  });
});
