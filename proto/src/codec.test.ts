import { describe, expect, it } from 'vitest';
import { FrameError, SchemaError } from './errors.js';
import { findKind } from './kinds.js';
import { checkResourceShape, resourceFromWire, resourceToWire } from './resource-json.js';
import { decodeEnvelope, encodeEnvelope } from './wire/codec.js';

const cluster = {
  apiVersion: 'outpost.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: 'pos', namespace: 'demo', generation: 3, labels: { tier: 'edge' } },
  spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 }, sshKeys: ['ops'] },
  status: { phase: 'Running' },
};

describe('envelope codec', () => {
  it('round-trips every message kind', () => {
    const frames = [
      { hello: { agentId: 'a1', version: '0.1.0', lastRevision: 42, protocolMajor: 1 } },
      { sync: { since: 7 } },
      { changes: { revision: 9, snapshot: true, changes: [{ ref: { kind: 'Cluster', name: 'pos' }, object: resourceToWire(cluster) }] } },
      { ack: { revision: 9 } },
      { status: { seq: 3, ref: { kind: 'Host', name: 'h1' }, host: { role: 'worker' } } },
      { error: { code: 'X', message: 'm', fatal: true } },
    ];
    for (const f of frames) {
      const back = decodeEnvelope(encodeEnvelope(f));
      expect(back.body).toBe(Object.keys(f)[0]);
    }
  });

  it('refuses oversized, garbage and empty frames with FrameError only', () => {
    const big = encodeEnvelope({ error: { message: 'x'.repeat(2000) } });
    expect(() => decodeEnvelope(big, 100)).toThrow(FrameError);
    expect(() => decodeEnvelope(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(FrameError);
    expect(() => decodeEnvelope(new Uint8Array())).toThrow(/no message/);
    for (let i = 0; i < 2000; i++) {
      const junk = new Uint8Array(1 + (i % 64)).map(() => Math.floor(Math.random() * 256));
      try {
        decodeEnvelope(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(FrameError);
      }
    }
  });

  it('ignores unknown fields from a newer peer', () => {
    // field 99, varint 1: unknown to this schema, appended to a valid Sync envelope
    const frame = new Uint8Array([...encodeEnvelope({ sync: { since: 5 } }), 0x98, 0x06, 0x01]);
    expect(decodeEnvelope(frame).sync?.since).toBe(5);
  });
});

describe('resource JSON', () => {
  it('round-trips through the wire form, and can leave status out', () => {
    expect(resourceFromWire(resourceToWire(cluster))).toEqual(cluster);
    expect(resourceFromWire(resourceToWire(cluster, false))?.status).toBeUndefined();
  });

  it('names every field that does not fit the schema', () => {
    const kind = findKind('clusters')!;
    const bad = { ...cluster, spec: { ...cluster.spec, controlPlane: { mode: 'kubeadm', replicas: 'three', zone: 'a' } }, extra: 1 };
    try {
      checkResourceShape(kind, bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaError);
      const fields = (e as SchemaError).problems.map((p) => p.field);
      expect(fields).toEqual(expect.arrayContaining(['extra', 'spec.controlPlane.replicas', 'spec.controlPlane.zone']));
    }
    expect(() => checkResourceShape(kind, cluster)).not.toThrow();
    expect(() => checkResourceShape(kind, [])).toThrow(/must be an object/);
    // Found by the fuzzer (test/bench/fuzz): a POST of `null` passed and was a 500 further on.
    expect(() => checkResourceShape(kind, null)).toThrow(/must be an object, not null/);
  });
});

describe('kinds', () => {
  it('accepts singular, plural, short and kind names', () => {
    for (const alias of ['Cluster', 'clusters', 'cluster', 'cl', 'DC', 'sshkeys', 'tok']) expect(findKind(alias)).toBeDefined();
    expect(findKind('pods')).toBeUndefined();
  });
});

describe('64-bit fields', () => {
  it('decode as numbers, defaults included', () => {
    const back = decodeEnvelope(encodeEnvelope({ sync: { since: 0 } }));
    expect(back.sync?.since).toBe(0);
    expect(typeof decodeEnvelope(encodeEnvelope({ changes: { revision: 2 ** 40 } })).changes?.revision).toBe('number');
  });
});
