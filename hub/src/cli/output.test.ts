import type { ResourceObject } from '@outpost/proto';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatList, formatObject, outputArg } from './output.js';

const site = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'store-0412' }, spec: { location: 'Hamburg' } } as unknown as ResourceObject;
const dc = { apiVersion: 'outpost.dev/v1alpha1', kind: 'Datacenter', metadata: { name: 'hamburg-stores' } } as unknown as ResourceObject;

describe('-o', () => {
  it('reads kubectl formats, and a jsonpath template once, up front', () => {
    expect(outputArg('wide')).toEqual({ format: 'wide' });
    expect(outputArg('name')).toEqual({ format: 'name' });
    expect(outputArg('jsonpath={.items[*].metadata.name}').format).toBe('jsonpath');
    expect(() => outputArg('xml')).toThrow(new InvalidArgumentError('use one of wide, name, yaml, json, jsonpath=TEMPLATE (or leave -o out for a table)'));
    expect(() => outputArg('jsonpath')).toThrow(/jsonpath needs a template/);
    expect(() => outputArg('jsonpath=')).toThrow(/jsonpath needs a template/);
    expect(() => outputArg('jsonpath={.a')).toThrow(/unclosed action/);
  });

  it('prints names as KIND/NAME, and jsonpath over the list or the object', () => {
    expect(formatList([site, dc], { resourceVersion: '7' }, outputArg('name'), false)).toBe('site/store-0412\ndatacenter/hamburg-stores\n');
    expect(formatList([site, dc], { resourceVersion: '7' }, outputArg('jsonpath={.metadata.resourceVersion}:{range .items[*]}{.kind}/{.metadata.name}{" "}{end}'), false)).toBe('7:Site/store-0412 Datacenter/hamburg-stores ');
    expect(formatObject(site, outputArg('jsonpath={.spec.location}'))).toBe('Hamburg');
    expect(JSON.parse(formatList([site], { resourceVersion: '7' }, outputArg('json'), false))).toEqual({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '7' }, items: [site] });
  });
});
