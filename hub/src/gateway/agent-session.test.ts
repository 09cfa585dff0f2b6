import { decodeEnvelope, encodeEnvelope, PROTOCOL_MAJOR, PROTOCOL_MINOR, type Envelope } from '@outpost/proto';
import { describe, expect, it } from 'vitest';
import { AgentSession, type SessionContext } from './agent-session.js';

const INTERVAL = 1000;

function session(): { s: AgentSession; sent: Array<Envelope['body']> } {
  const sent: Array<Envelope['body']> = [];
  const ctx: SessionContext = {
    reads: { authenticate: () => ({ refused: 'unused' }), syncView: () => ({ snapshot: false, revision: 7, upserts: [], removals: [] }), revision: () => 7 },
    events: { connected: () => undefined, acked: () => undefined, seen: () => undefined, disconnected: () => undefined, status: () => undefined },
    heartbeatIntervalMs: INTERVAL,
    maxFrameBytes: 1 << 20,
    log: { info: () => undefined, warn: () => undefined },
  };
  const s = new AgentSession(ctx, { send: (f) => sent.push(decodeEnvelope(f).body), close: () => undefined }, 'a1', 'site/s1', 1, '127.0.0.1');
  s.onFrame(encodeEnvelope({ hello: { agentId: 'a1', version: 'test', lastRevision: 0, protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR } }));
  return { s, sent };
}

describe('AgentSession heartbeats', () => {
  it('sends none while other frames flowed in the last half interval, and one once the link is quiet', () => {
    const { s, sent } = session();
    expect(sent).toEqual(['welcome']);
    s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
    expect(sent).toEqual(['welcome', 'changes']);
    // The sweep comes by right after the Changes: the agent has just heard from the hub.
    s.heartbeat(Date.now());
    expect(sent).toEqual(['welcome', 'changes']);
    // Half an interval later with nothing sent: a heartbeat.
    s.heartbeat(Date.now() + INTERVAL / 2);
    expect(sent).toEqual(['welcome', 'changes', 'heartbeat']);
  });

  it('still closes an agent silent for three intervals', () => {
    const { s, sent } = session();
    s.heartbeat(Date.now() + 3 * INTERVAL + 1);
    expect(s.closed).toBe(true);
    expect(sent).toEqual(['welcome']);
  });
});
