// The shape check's free-form JSON (managedFields' fieldsV1) and dropping unknown fields for
// fieldValidation=Warn|Ignore.
import { describe, expect, it } from 'vitest';
import { lookupType } from './reflection.js';
import { checkMessage, dropUnknownFields } from './validate-shape.js';

describe('shape check', () => {
  it('takes any JSON object as a google.protobuf.Struct, and nothing else', () => {
    const meta = lookupType('ObjectMeta');
    const problems: { field: string; message: string }[] = [];
    checkMessage(meta, { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:x': {} } } }, { fieldsV1: [1] }] }, 'metadata', problems);
    expect(problems).toEqual([{ field: 'metadata.managedFields[1].fieldsV1', message: 'must be an object, not a list' }]);
  });

  it('drops unknown fields at every depth, in lists and maps too, and says where', () => {
    const { value, dropped } = dropUnknownFields(lookupType('Cluster'), {
      kind: 'Cluster',
      colour: 'red',
      metadata: { name: 'a', labels: { keep: 'me' }, managedFields: [{ manager: 'm', fieldsV1: { anything: {} }, extra: 1 }] },
      spec: { version: '1', workers: [{ name: 'w', size: 'xl' }], controlPlane: { mode: 'kubeadm', hostSelector: { a: 'b' } }, addons: 'not-a-list' },
    });
    expect(dropped).toEqual(['colour', 'metadata.managedFields[0].extra', 'spec.workers[0].size']);
    expect(value).toEqual({
      kind: 'Cluster',
      metadata: { name: 'a', labels: { keep: 'me' }, managedFields: [{ manager: 'm', fieldsV1: { anything: {} } }] },
      spec: { version: '1', workers: [{ name: 'w' }], controlPlane: { mode: 'kubeadm', hostSelector: { a: 'b' } }, addons: 'not-a-list' },
    });
  });
});
