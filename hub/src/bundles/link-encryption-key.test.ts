// The encryption key a Hello tells, as the presence flush records it, against the status bundle's replay rule.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialMacKey, signStatusExport, STATUS_EXPORT_FORMAT, STATUS_EXPORT_KIND, type StatusExport } from '@outpost/proto';
import { createAgent } from '../auth/agent-identity.js';
import { ManualClock } from '../clock.js';
import { Presence } from '../gateway/presence.js';
import { Store } from '../store/store.js';
import { recordLinkEncryptionKey } from './link-encryption-key.js';
import { importStatusBundle } from './status-import.js';

const x25519Pem = (): string => generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe("the encryption key an agent's Hello tells", () => {
  let dir: string;
  let clock: ManualClock;
  let store: Store;
  let presence: Presence;
  let agentId: string;
  let macKey: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-link-key-'));
    clock = new ManualClock('2026-03-01T12:00:00Z');
    store = new Store(join(dir, 'hub.db'), { clock });
    presence = new Presence(store, { clock, flushEveryMs: 60_000 });
    store.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 'ship' }, spec: {} } as never, { actor: 'test' });
    const joined = createAgent(store, 'site', 'ship', 'a1', '0', { actor: 'test' });
    agentId = joined.agentId;
    macKey = credentialMacKey(joined.credential.slice(joined.credential.lastIndexOf('.') + 1));
  });
  afterEach(() => {
    presence.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const statusBundle = (exported: string, encryptionKey: string): string => {
    const body: Omit<StatusExport, 'mac'> = { kind: STATUS_EXPORT_KIND, format: STATUS_EXPORT_FORMAT, agentId, view: 'site/ship', ackedRevision: 0, exported, statuses: [], lastSeq: 0, encryptionKey };
    return JSON.stringify(signStatusExport(body, macKey));
  };
  const hello = (encryptionKey: string): void => {
    presence.connected(agentId, { version: '1', address: '127.0.0.1', sshPublicKey: '', encryptionKey });
    presence.flush();
  };

  it('is recorded with the presence flush, and written again only when it changed', () => {
    const key = x25519Pem();
    hello(key);
    expect(store.agentKeys.get(agentId)).toEqual({ publicKeyPem: key, exported: '2026-03-01T12:00:00Z', learned: '2026-03-01T12:00:00Z' });
    clock.advance(60_000);
    hello(key);
    expect(store.agentKeys.get(agentId)?.learned).toBe('2026-03-01T12:00:00Z');
    expect(recordLinkEncryptionKey(store, agentId, key, clock.now())).toBe('unchanged');
    // An older agent tells none; a key the hub cannot seal to is not taken: the held one stays.
    hello('');
    expect(recordLinkEncryptionKey(store, agentId, 'not a key', clock.now())).toBe('invalid');
    expect(store.agentKeys.get(agentId)?.publicKeyPem).toBe(key);
  });

  it('replaces a key a status bundle brought, and an older status bundle cannot bring that key back', () => {
    const first = x25519Pem();
    expect(importStatusBundle(store, statusBundle('2026-03-01T11:00:00Z', first)).encryptionKey).toBe('new');
    const second = x25519Pem();
    hello(second);
    expect(store.agentKeys.get(agentId)?.publicKeyPem).toBe(second);
    expect(importStatusBundle(store, statusBundle('2026-03-01T11:00:00Z', first)).encryptionKey).toBe('older');
    expect(store.agentKeys.get(agentId)?.publicKeyPem).toBe(second);
    // A status bundle exported after the Hello (the agent made yet another key while offline) is taken.
    expect(importStatusBundle(store, statusBundle('2026-03-01T12:30:00Z', first)).encryptionKey).toBe('replaced');
  });

  it("stamps past the held key's export even when the agent's clock ran ahead of the hub's", () => {
    const first = x25519Pem();
    // Exported by the agent's clock an hour ahead of the hub's.
    importStatusBundle(store, statusBundle('2026-03-01T13:00:00Z', first));
    const second = x25519Pem();
    hello(second);
    expect(store.agentKeys.get(agentId)).toMatchObject({ publicKeyPem: second, exported: '2026-03-01T13:00:01Z', learned: '2026-03-01T12:00:00Z' });
    expect(importStatusBundle(store, statusBundle('2026-03-01T13:00:00Z', first)).encryptionKey).toBe('older');
  });

  it('leaves no key behind for an Agent deleted before the flush', () => {
    presence.connected(agentId, { version: '1', address: '', sshPublicKey: '', encryptionKey: x25519Pem() });
    store.delete({ kind: 'Agent', namespace: '', name: agentId }, { actor: 'test' });
    presence.flush();
    expect(store.agentKeys.get(agentId)).toBeUndefined();
  });
});
