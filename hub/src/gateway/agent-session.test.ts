import { decodeEnvelope, encodeEnvelope, ErrorCode, MAX_SECRETS_PER_REQUEST, PROTOCOL_MAJOR, PROTOCOL_MINOR, SecretsMissing, type Envelope } from '@outpost/proto';
import { describe, expect, it, vi } from 'vitest';
import { AgentSession, NOT_READING_INTERVALS, READ_BUDGET, SYNC_LOW_WATER_BYTES, type SessionContext } from './agent-session.js';

const INTERVAL = 1000;

interface Harness {
  s: AgentSession;
  sent: Array<Envelope['body']>;
  frames: Envelope[];
  /** Write callbacks of frames not yet "written" (with `manualWrites`): the peer is not reading. */
  unwritten: Array<() => void>;
  reads: { syncs: number; acked: number[]; warnings: Array<{ o: Record<string, unknown>; m: string }>; terminated: boolean; paused: boolean };
  /** The revision the hub's reads answer with (7 unless a test moves it on). */
  hub: { revision: number };
}

function session(opts: { manualWrites?: boolean; snapshotBytes?: number } = {}): Harness {
  const sent: Array<Envelope['body']> = [];
  const frames: Envelope[] = [];
  const unwritten: Array<() => void> = [];
  const reads: Harness['reads'] = { syncs: 0, acked: [], warnings: [], terminated: false, paused: false };
  const hub = { revision: 7 };
  // A snapshot of one Site whose location makes it about `snapshotBytes` long.
  const upserts = opts.snapshotBytes ? [{ apiVersion: 'outpost.dev/v1alpha1', kind: 'Site', metadata: { name: 's1' }, spec: { location: 'x'.repeat(opts.snapshotBytes) } }] : [];
  const ctx: SessionContext = {
    reads: {
      authenticate: () => ({ refused: 'unused' }),
      syncView: () => {
        reads.syncs++;
        return { snapshot: false, revision: hub.revision, upserts, removals: [] };
      },
      revision: () => hub.revision,
    },
    events: { connected: () => undefined, acked: (_a, r) => reads.acked.push(r), seen: () => undefined, disconnected: () => undefined, status: () => undefined },
    statuses: { offer: () => undefined },
    // Knows one Cluster, p/mine with uid u-mine: it alone gets keys.
    secrets: {
      clusterSecrets: (_a, _v, refs, done) => done(refs.map((ref) => (ref.uid === 'u-mine' ? { ref, keys: { serviceAccountPublicKeyPem: 'pub' } } : { ref, missing: { reason: 'NOT_IN_VIEW' } }))),
    },
    heartbeatIntervalMs: INTERVAL,
    maxFrameBytes: 4 << 20,
    log: { info: () => undefined, warn: (o, m) => reads.warnings.push({ o: o as Record<string, unknown>, m }) },
  };
  const peer = {
    send: (f: Uint8Array, written: () => void) => {
      const env = decodeEnvelope(f, 8 << 20);
      sent.push(env.body);
      frames.push(env);
      if (opts.manualWrites) unwritten.push(written);
      else written();
    },
    close: () => undefined,
    terminate: () => void (reads.terminated = true),
    pause: () => void (reads.paused = true),
    resume: () => void (reads.paused = false),
  };
  const s = new AgentSession(ctx, peer, 'a1', 'site/s1', 1, '127.0.0.1');
  s.onFrame(encodeEnvelope({ hello: { agentId: 'a1', version: 'test', lastRevision: 0, protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR } }));
  return { s, sent, frames, unwritten, reads, hub };
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

describe('AgentSession pokes', () => {
  const pokes = (h: Harness) => h.frames.filter((f) => f.body === 'poke').map((f) => Number(f.poke?.revision));

  it('sends no Poke for a write its last answer already held, and so still pokes the next write', () => {
    const h = session();
    // The agent's Sync is read (revision 7) in the same tick as the write at 7, before its Poke goes out.
    h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
    h.s.poke(7);
    h.s.poke(8);
    expect(pokes(h)).toEqual([8]);
  });

  it('sends one Poke until the agent syncs past it, then pokes again', () => {
    const h = session();
    h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
    h.s.poke(8);
    h.s.poke(9);
    expect(pokes(h)).toEqual([8]);
    h.hub.revision = 9;
    h.s.onFrame(encodeEnvelope({ sync: { since: 7 } }));
    h.s.poke(9);
    h.s.poke(10);
    expect(pokes(h)).toEqual([8, 10]);
  });
});

describe('AgentSession against a peer that sends but does not read', () => {
  it('answers one Sync at a time: more wait (the newest kept) until the last answer is written', () => {
    const h = session({ manualWrites: true, snapshotBytes: SYNC_LOW_WATER_BYTES + 1024 });
    for (let i = 0; i < 1000; i++) h.s.onFrame(encodeEnvelope({ sync: { since: i } }));
    // The first was answered; the other 999 are one Sync waiting, not 999 views read and encoded.
    expect(h.reads.syncs).toBe(1);
    expect(h.sent.filter((b) => b === 'changes')).toHaveLength(1);
    expect(h.s.unwrittenBytes).toBeGreaterThan(SYNC_LOW_WATER_BYTES);
    // The peer reads the Welcome and the answer: the waiting Sync (the newest, since 999) is answered.
    for (const written of h.unwritten.splice(0)) written();
    expect(h.reads.syncs).toBe(2);
    expect(h.frames.at(-1)?.changes?.since).toBe(999);
  });

  it('closes a peer whose frames stay unwritten for six heartbeat intervals, and says so', () => {
    vi.useFakeTimers();
    try {
      const start = Date.now();
      const h = session({ manualWrites: true });
      h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
      // It still sends (so it is "heard"), but reads nothing.
      for (let i = 1; i <= NOT_READING_INTERVALS; i++) {
        vi.advanceTimersByTime(INTERVAL);
        h.s.onFrame(encodeEnvelope({ heartbeat: { sentAtMs: i } }));
        h.s.heartbeat(start + i * INTERVAL);
        expect(h.reads.terminated).toBe(false);
      }
      h.s.heartbeat(start + NOT_READING_INTERVALS * INTERVAL + 1);
      expect(h.reads.terminated).toBe(true);
      expect(h.s.closed).toBe(true);
      expect(h.reads.warnings.at(-1)?.m).toMatch(/not reading/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes a peer that is answered a Sync and never acks it, even when everything was written', () => {
    vi.useFakeTimers();
    try {
      const start = Date.now();
      const h = session();
      h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
      vi.advanceTimersByTime(NOT_READING_INTERVALS * INTERVAL - 1);
      // Still heard, and nothing left unwritten; but the answer was never acked.
      h.s.onFrame(encodeEnvelope({ heartbeat: { sentAtMs: 1 } }));
      h.s.heartbeat(Date.now());
      expect(h.reads.terminated).toBe(false);
      h.s.heartbeat(start + NOT_READING_INTERVALS * INTERVAL + 1);
      expect(h.reads.terminated).toBe(true);
      expect(h.reads.warnings.at(-1)?.o).toMatchObject({ unackedRevision: 7 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a peer that acks what it was answered', () => {
    vi.useFakeTimers();
    try {
      const start = Date.now();
      const h = session();
      h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
      h.s.onFrame(encodeEnvelope({ ack: { revision: 7 } }));
      vi.advanceTimersByTime(NOT_READING_INTERVALS * INTERVAL);
      h.s.onFrame(encodeEnvelope({ heartbeat: { sentAtMs: 1 } }));
      h.s.heartbeat(start + NOT_READING_INTERVALS * INTERVAL + 1);
      expect(h.reads.terminated).toBe(false);
      expect(h.s.closed).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends no heartbeat while earlier frames are still unwritten', () => {
    const h = session({ manualWrites: true });
    h.s.heartbeat(Date.now() + INTERVAL / 2 + 1);
    expect(h.sent).toEqual(['welcome']);
  });
});

describe('AgentSession reading a flooding peer', () => {
  it('stops reading a peer past its read budget, and reads again once the budget is back', () => {
    vi.useFakeTimers();
    try {
      const h = session();
      const beat = encodeEnvelope({ heartbeat: { sentAtMs: 1 } });
      for (let i = 0; i < READ_BUDGET.frames - 2; i++) h.s.onFrame(beat);
      expect(h.reads.paused).toBe(false);
      h.s.onFrame(beat);
      expect(h.reads.paused).toBe(true);
      expect(h.reads.warnings.at(-1)?.m).toMatch(/reading its connection more slowly/);
      vi.advanceTimersByTime(1000 / READ_BUDGET.framesPerSecond + 1);
      expect(h.reads.paused).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AgentSession Acks and Errors', () => {
  it('refuses an Ack above the revision this connection was sent, and records a real one', () => {
    const h = session();
    h.s.onFrame(encodeEnvelope({ ack: { revision: 999_999_999_999 } }));
    expect(h.reads.acked).toEqual([]);
    expect(h.frames.at(-1)?.error).toMatchObject({ code: ErrorCode.invalidAck });
    expect(h.frames.at(-1)?.error?.message).toMatch(/revision 999999999999 refused: this connection was sent revision 0 at most/);
    h.s.onFrame(encodeEnvelope({ sync: { since: 0 } }));
    h.s.onFrame(encodeEnvelope({ ack: { revision: 7 } }));
    h.s.onFrame(encodeEnvelope({ ack: { revision: 8 } }));
    expect(h.reads.acked).toEqual([7]);
  });

  it('tells the agent of refused Acks at a bounded rate', () => {
    const h = session();
    for (let i = 0; i < 1000; i++) h.s.onFrame(encodeEnvelope({ ack: { revision: 100 + i } }));
    expect(h.sent.filter((b) => b === 'error').length).toBeLessThanOrEqual(6);
  });

  it('logs the agent\'s Errors clipped, and at a bounded rate with a count of the rest', () => {
    vi.useFakeTimers();
    try {
      const h = session();
      for (let i = 0; i < 1000; i++) h.s.onFrame(encodeEnvelope({ error: { code: 'X'.repeat(500), message: `${i} ${'m'.repeat(100_000)}` } }));
      let logged = h.reads.warnings.filter((w) => w.m === 'agent reported an error');
      expect(logged.length).toBe(1);
      expect(String(logged[0]?.o.message).length).toBeLessThan(1100);
      expect(String(logged[0]?.o.code).length).toBeLessThan(100);
      expect(String(logged[0]?.o.message)).toMatch(/98978 more characters/);
      // The rest in one line, ten seconds on, with how many there were and the latest.
      vi.advanceTimersByTime(10_000);
      logged = h.reads.warnings.filter((w) => w.m === 'agent reported an error');
      expect(logged.length).toBe(2);
      expect(logged[1]?.o).toMatchObject({ occurrences: 999 });
      expect(String(logged[1]?.o.message)).toMatch(/^999 m/);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AgentSession SecretsRequest', () => {
  it('answers every ref: what the source gives within the bound, TOO_MANY past it', () => {
    const h = session();
    const refs = [{ kind: 'Cluster', namespace: 'p', name: 'mine', uid: 'u-mine' }, ...Array.from({ length: MAX_SECRETS_PER_REQUEST }, (_, i) => ({ kind: 'Cluster', namespace: 'p', name: `o${i}`, uid: `u${i}` }))];
    h.s.onFrame(encodeEnvelope({ secretsRequest: { clusters: refs } }));
    const answers = h.frames.filter((f) => f.secrets).flatMap((f) => f.secrets?.clusters ?? []);
    expect(answers).toHaveLength(refs.length);
    expect(answers[0]?.keys?.serviceAccountPublicKeyPem).toBe('pub');
    expect(answers.slice(1, -1).every((a) => a.missing?.reason === 'NOT_IN_VIEW' && !a.keys)).toBe(true);
    expect(answers.at(-1)?.missing?.reason).toBe(SecretsMissing.tooMany);
  });
});
