import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvents } from './agent-events.js';
import { recordedEvents, SESSION_RECORD_ENV, type SessionRecordFile } from './session-record.js';

const seen: string[] = [];
const events: AgentEvents = {
  connected: (agentId) => void seen.push(`connected ${agentId}`),
  acked: (agentId, revision) => void seen.push(`acked ${agentId} ${revision}`),
  seen: () => undefined,
  disconnected: () => undefined,
  status: (_a, _v, _s, done) => done(undefined),
};

describe('recordedEvents', () => {
  const dirs: string[] = [];
  afterEach(() => {
    process.removeAllListeners('SIGUSR2');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    seen.length = 0;
  });

  it('is the events themselves unless the variable is set', () => {
    expect(recordedEvents(events, {})).toBe(events);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('passes every event on and writes Welcome and Ack times on SIGUSR2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'session-record-'));
    dirs.push(dir);
    const before = Date.now() - 1;
    const r = recordedEvents(events, { [SESSION_RECORD_ENV]: dir });
    r.connected('a1', 1, { version: 'v', address: '127.0.0.1', sshPublicKey: '' });
    r.acked('a1', 7);
    r.connected('a1', 2, { version: 'v', address: '127.0.0.1', sshPublicKey: '' });
    expect(seen).toEqual(['connected a1', 'acked a1 7', 'connected a1']);
    process.emit('SIGUSR2', 'SIGUSR2');
    const file = JSON.parse(readFileSync(join(dir, `sessions-${process.pid}.json`), 'utf8')) as SessionRecordFile;
    expect(file.welcomes.a1).toHaveLength(2);
    expect(file.acks.a1?.[0]?.[0]).toBe(7);
    expect(file.acks.a1?.[0]?.[1]).toBeGreaterThanOrEqual(before);
    expect(file.acks.a1?.[0]?.[1]).toBeLessThanOrEqual(Date.now() + 1);
  });
});
