import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceObject } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';

const site = (name: string, labels?: Record<string, string>): ResourceObject => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name, ...(labels ? { labels } : {}) }, spec: {} });

describe('parseLabelSelector', () => {
  it('parses every Kubernetes operator into requirements', () => {
    expect(parseLabelSelector('tier=gold, env==prod,app!=web')).toEqual([
      { key: 'tier', operator: 'in', values: ['gold'] },
      { key: 'env', operator: 'in', values: ['prod'] },
      { key: 'app', operator: 'notin', values: ['web'] },
    ]);
    expect(parseLabelSelector('tier in (gold, silver),env notin(dev),outpost.dev/site,!legacy')).toEqual([
      { key: 'tier', operator: 'in', values: ['gold', 'silver'] },
      { key: 'env', operator: 'notin', values: ['dev'] },
      { key: 'outpost.dev/site', operator: 'exists', values: [] },
      { key: 'legacy', operator: 'absent', values: [] },
    ]);
    // As Kubernetes: `key=` is the empty value, `in (a,)` holds the empty value too, and `in` is a key.
    expect(parseLabelSelector('a=,b in (x,)')).toEqual([
      { key: 'a', operator: 'in', values: [''] },
      { key: 'b', operator: 'in', values: ['x', ''] },
    ]);
    expect(parseLabelSelector('in in (in)')).toEqual([{ key: 'in', operator: 'in', values: ['in'] }]);
    expect(parseLabelSelector('')).toBeUndefined();
    expect(parseLabelSelector(undefined)).toBeUndefined();
  });

  it.each([
    ['tier!', `found '!' after key "tier", expected one of in, notin, =, ==, !=`],
    ['tier!gold', `found '!' after key "tier"`],
    ['tier=gold=x', `found '=' after a requirement, expected ',' or the end`],
    ['tier in gold', `found 'gold' after 'in', expected '('`],
    ['tier in ()', `'in' needs at least one value`],
    ['tier in (a b)', `found 'b' after 'a', expected ',' or ')'`],
    ['tier in (a', `found end of string in the values of 'in'`],
    ['a,', 'found end of string, expected a label key'],
    [',a', `found ',', expected a label key`],
    ['=gold', `found '=', expected a label key`],
    ['!a=b', '!a takes no operator or value'],
    ['n>3', `the operator '>' is not supported here`],
    ['-bad=x', 'key "-bad" must be letters, digits'],
    ['Bad.Prefix/k=x', 'the prefix "Bad.Prefix" of key "Bad.Prefix/k"'],
    [`${'k'.repeat(64)}=x`, `key "${'k'.repeat(64)}" has a name part longer than 63 characters`],
    ['k=-x', 'value "-x" must be empty or letters'],
    [`k=${'v'.repeat(64)}`, `value "${'v'.repeat(64)}" is longer than 63 characters`],
    ['k=(x)', `found '(', expected a value`],
  ])('refuses %j naming the problem', (raw, problem) => {
    expect(() => parseLabelSelector(raw)).toThrow(`labelSelector "${raw}" is not a label selector: ${problem}`);
  });
});

describe('label selectors in SQL and in JavaScript', () => {
  let dir: string;
  let store: Store;
  const objects = [site('a', { tier: 'gold', env: 'prod' }), site('b', { tier: 'silver' }), site('c', { env: '' }), site('d')];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-labels-'));
    store = new Store(join(dir, 'hub.db'));
    for (const o of objects) store.create(o, { actor: 'test' });
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The store answers lists in SQL and watches match in JavaScript: both must pick the same objects.
  it.each([
    ['tier=gold', ['a']],
    ['tier!=gold', ['b', 'c', 'd']],
    ['tier in (gold,silver)', ['a', 'b']],
    ['tier notin (gold,silver)', ['c', 'd']],
    ['tier', ['a', 'b']],
    ['!tier', ['c', 'd']],
    ['env=', ['c']],
    ['env,!tier', ['c']],
    ['tier=gold,env=prod', ['a']],
    ['tier=gold,env=dev', []],
  ])('%s selects %j both ways', (raw, names) => {
    const sel = parseLabelSelector(raw);
    expect(store.list('Site', { labelSelector: sel }).map((o) => o.metadata.name)).toEqual(names);
    expect(objects.filter((o) => matchesLabels(sel, o)).map((o) => o.metadata.name)).toEqual(names);
  });
});
