// Presence: batched writes into the presence table, the quiet agent's lastSeen rate limit by the clock,
// and the events watches of agents hear. Nothing here moves the global revision.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '@outpost/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { Store } from '../store/store.js';
import { Presence } from './presence.js';

const ctx = { actor: 'test' };
const agent = (name: string): Agent => ({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Agent', metadata: { name }, spec: { role: 'site', site: name } });

describe('Presence', () => {
  let dir: string;
  let store: Store;
  let clock: ManualClock;
  let presence: Presence;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-presence-'));
    clock = new ManualClock('2026-03-01T12:00:00Z');
    store = new Store(join(dir, 'hub.db'), { clock });
    presence = new Presence(store, { clock, flushEveryMs: 60_000 });
  });
  afterEach(() => {
    presence.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a storm 1,000 agents per flush and publishes each batch, without a revision', () => {
    store.transaction(() => {
      for (let i = 0; i < 2500; i++) store.create(agent(`a${i}`), ctx);
    });
    const revision = store.revision();
    const batches: number[] = [];
    presence.subscribe((agents) => batches.push(agents.length));
    for (let i = 0; i < 2500; i++) presence.connected(`a${i}`, { version: '1.0.0', address: '127.0.0.1', sshPublicKey: '' });
    presence.flush();
    expect(batches).toEqual([1000]);
    presence.flush();
    presence.flush();
    expect(batches).toEqual([1000, 1000, 500]);
    expect([...store.presence.all().values()].filter((p) => p.connected)).toHaveLength(2500);
    expect(store.revision()).toBe(revision);
    expect(store.changesSince(revision)).toEqual([]);
  });

  it('publishes the Agent with its presence merged and its resourceVersion unchanged', () => {
    const created = store.create(agent('a1'), ctx);
    const heard: Agent[] = [];
    presence.subscribe((agents) => heard.push(...agents));
    presence.connected('a1', { version: '1.0.0', address: '10.1.2.3', sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJv outpost-agent@a1' });
    presence.acked('a1', 42);
    presence.flush();
    expect(heard).toHaveLength(1);
    expect(heard[0]!.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(heard[0]!.status).toEqual({ connected: true, ackedRevision: 42, version: '1.0.0', address: '10.1.2.3', sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJv outpost-agent@a1', connectedSince: '2026-03-01T12:00:00Z', lastSeen: '2026-03-01T12:00:00Z' });
    clock.advance(30_000);
    presence.disconnected('a1');
    presence.flush();
    expect(heard[1]!.status).toMatchObject({ connected: false, lastSeen: '2026-03-01T12:00:30Z', connectedSince: '2026-03-01T12:00:00Z' });
  });

  it("refreshes a quiet agent's lastSeen at most every 5 minutes", () => {
    store.create(agent('a1'), ctx);
    presence.connected('a1', { version: '1.0.0', address: '', sshPublicKey: '' });
    presence.flush();
    const heard: string[] = [];
    presence.subscribe((agents) => heard.push(...agents.map((a) => a.status?.lastSeen ?? '')));
    clock.advance(299_000);
    presence.seen('a1');
    presence.flush();
    expect(heard).toEqual([]);
    clock.advance(1_000);
    presence.seen('a1');
    presence.flush();
    expect(heard).toEqual(['2026-03-01T12:05:00Z']);
  });
});
