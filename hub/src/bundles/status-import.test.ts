import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialMacKey, signStatusExport, STATUS_EXPORT_FORMAT, STATUS_EXPORT_KIND, type StatusExport } from '@outpost/proto';
import { createAgent } from '../auth/agent-identity.js';
import { Store } from '../store/store.js';
import { importStatusBundle } from './status-import.js';

const x25519Pem = (): string => generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe("a status bundle's encryption key", () => {
  let dir: string;
  let store: Store;
  let agentId: string;
  let macKey: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-status-import-'));
    store = new Store(join(dir, 'hub.db'));
    store.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'ship' }, spec: {} } as never, { actor: 'test' });
    const joined = createAgent(store, 'site', 'ship', 'a1', '0', { actor: 'test' });
    agentId = joined.agentId;
    macKey = credentialMacKey(joined.credential.slice(joined.credential.lastIndexOf('.') + 1));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exportOf = (exported: string, encryptionKey?: string): string => {
    const body: Omit<StatusExport, 'mac'> = { kind: STATUS_EXPORT_KIND, format: STATUS_EXPORT_FORMAT, agentId, view: 'site/ship', ackedRevision: 0, exported, statuses: [], lastSeq: 0, ...(encryptionKey ? { encryptionKey } : {}) };
    return JSON.stringify(signStatusExport(body, macKey));
  };

  it('is learned, kept while the same, replaced by a later export and not by an earlier one', () => {
    const first = x25519Pem();
    expect(importStatusBundle(store, exportOf('2026-01-02T00:00:00Z')).encryptionKey).toBe('absent');
    expect(store.agentKeys.get(agentId)).toBeUndefined();
    const learned = importStatusBundle(store, exportOf('2026-01-02T00:00:00Z', first));
    expect(learned).toMatchObject({ encryptionKey: 'new', encryptionKeyFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown as string });
    expect(store.agentKeys.get(agentId)?.publicKeyPem).toBe(first);
    expect(importStatusBundle(store, exportOf('2026-01-03T00:00:00Z', first)).encryptionKey).toBe('unchanged');

    const second = x25519Pem();
    expect(importStatusBundle(store, exportOf('2026-01-04T00:00:00Z', second)).encryptionKey).toBe('replaced');
    // An export older than the one that brought the key held (a replay of an old file) does not bring the old key back.
    expect(importStatusBundle(store, exportOf('2026-01-02T00:00:00Z', first)).encryptionKey).toBe('older');
    expect(store.agentKeys.get(agentId)?.publicKeyPem).toBe(second);
  });

  it('is refused, recording nothing, when it is no X25519 key', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => importStatusBundle(store, exportOf('2026-01-02T00:00:00Z', ed))).toThrow(/carries an encryption key that is a key of type ed25519, not an X25519 encryption key; nothing was recorded/);
    expect(() => importStatusBundle(store, exportOf('2026-01-02T00:00:00Z', 'garbage'))).toThrow(/not a public key/);
    expect(store.agentKeys.get(agentId)).toBeUndefined();
  });

  it('goes with its Agent', () => {
    importStatusBundle(store, exportOf('2026-01-02T00:00:00Z', x25519Pem()));
    store.delete({ kind: 'Agent', namespace: '', name: agentId }, { actor: 'test' });
    expect(store.agentKeys.get(agentId)).toBeUndefined();
  });
});
