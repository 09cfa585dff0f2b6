// One connected agent, as the hub sees it: Hello, then Syncs answered with Changes, Acks, Statuses and
// Heartbeats. Talks to its socket only through Peer, so the protocol logic is testable without one.
//
// A session never lets one agent make the hub do unbounded work (issue 10): at most one Sync is answered
// at a time and only once the last answer has left this process, answers are metered in bytes, a peer
// whose frames stay unwritten is closed, an Ack must name a revision this connection was sent, and the
// agent's own Error frames are logged clipped and rate-limited. Statuses go to the gateway's per-agent
// throttle (status-throttle.ts). SecretsRequests are metered per connection (secrets-budget.ts) and
// answered by the SecretsSource, which alone decides what the agent may have (cluster-secrets.ts).
import {
  CHANGES_CHUNK_BYTES, CloseCode, decodeEnvelope, encodeEnvelope, ErrorCode, FrameError, heartbeatDue, MISSED_HEARTBEATS_BEFORE_CLOSE, PROTOCOL_MAJOR, PROTOCOL_MINOR,
  type ClusterSecret, type Envelope, type ObjectRef, type Status,
} from '@outpost/proto';
import { RateLimitedWarning } from '../rate-limited-warning.js';
import type { AgentEvents, GatewayReads } from './agent-events.js';
import type { StatusRefusal } from './agent-status.js';
import { changesFrames } from './changes-frames.js';
import type { SecretsSource } from './cluster-secrets.js';
import { SecretsBudget } from './secrets-budget.js';
import { TokenBucket } from './token-bucket.js';

export interface Peer {
  /** Queues a frame; `written` runs once it has left this process (or the socket failed). */
  send(frame: Uint8Array, written: () => void): void;
  close(code: number, reason: string): void;
  /** Drops the socket without a closing handshake: for a peer that reads nothing, not even a Close. */
  terminate(): void;
  /** Stops reading the peer's frames (TCP pushes back on it), and starts again. */
  pause(): void;
  resume(): void;
}

/** Where a session's Statuses go: the gateway's per-agent throttle, which answers through the session. */
export interface StatusSink {
  offer(session: AgentSession, status: Status, frameBytes: number): void;
}

/** Shared by every session of a gateway: one object, not a copy per connection. */
export interface SessionContext {
  reads: GatewayReads;
  events: AgentEvents;
  statuses: StatusSink;
  secrets: SecretsSource;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** The hub's bundle signing key, for agents that joined before it had one to pin it. */
  bundleKey?: string;
}

/** A Sync is answered only while less than this is still unwritten to the agent. */
export const SYNC_LOW_WATER_BYTES = 256 * 1024;
/**
 * Heartbeat intervals in which not one queued frame was written out before the agent counts as not
 * reading. Twice the silence limit: progress is seen per frame, and a Changes frame is up to 1 MiB, so an
 * agent on a slow link (a ship's satellite link) must get one through at ~12 KB/s on the default 15 s
 * interval to stay on. What such a peer holds here meanwhile is bounded by MAX_UNWRITTEN_BYTES.
 */
export const NOT_READING_INTERVALS = 2 * MISSED_HEARTBEATS_BEFORE_CLOSE;
/** Beyond this unwritten, the agent is not reading fast enough to be served: closed at the next sweep. */
export const MAX_UNWRITTEN_BYTES = 32 * 1024 * 1024;
/**
 * Bytes of Changes one connection is answered: a first snapshot of a large seed at once, then 2 MiB/s.
 * An agent's own syncs follow Pokes and are deltas of a few KiB; only a peer that asks for its snapshot
 * again and again meets the limit, and its extra Syncs merely wait (one is kept, the newest).
 */
export const SYNC_BUDGET = { bytes: 16 * 1024 * 1024, bytesPerSecond: 2 * 1024 * 1024 };
/**
 * Frames and bytes read from one connection: an agent's outbox after a reconnect at once, then 2,000
 * frames (some 40 ms of the hub's CPU) and 1 MiB a second. Beyond it the hub stops reading the socket until the budget is back, so a
 * flooding peer waits in its own TCP buffers instead of taking the hub's CPU from everyone else.
 */
export const READ_BUDGET = { frames: 4000, framesPerSecond: 2000, bytes: 8 * 1024 * 1024, bytesPerSecond: 1024 * 1024 };
/** The agent's Error frames: the first logged at once, then one line per 10 s with the count and the latest. */
const ERROR_LOG_EVERY_MS = 10_000;
/** Refusals (of Acks) told to the agent: 5 at once, then one per second. */
const NOTICES = { burst: 5, perSecond: 1 };
const MAX_LOGGED_CODE = 64;
const MAX_LOGGED_MESSAGE = 1024;

function clip(s: string | null | undefined, max: number): string {
  const text = s ?? '';
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

export class AgentSession {
  readonly agentId: string;
  readonly view: string;
  private helloed = false;
  /**
   * The revision of the last Poke sent. While it is above `agentRevision` the agent has a Poke it will act
   * on, so more writes need no further Poke.
   */
  private pokedRevision = 0;
  /**
   * The newest revision the agent holds or is being sent: the `since` of its Syncs and the revision of
   * each answer. A Poke at or below it is one the agent ignores (it has that revision already).
   */
  private agentRevision = 0;
  lastHeardAt = Date.now();
  /** When this hub last sent the agent anything (see heartbeatDue). */
  private lastSentAt = 0;
  closed = false;
  /** Bytes handed to the socket and not yet written out. */
  private unwritten = 0;
  /** Since when unwritten bytes have waited without any being written. */
  private stalledSince = 0;
  /** The newest Sync not answered yet (at most one waits: an older one is answered by the newer). */
  private syncWanted: number | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly syncBudget: TokenBucket;
  /** The newest revision this connection was sent in Changes: an Ack above it is refused. */
  private servedRevision = 0;
  /**
   * The revision of the last answer, until an Ack of it comes, and since when its last frame has been out
   * of this process (0 while it is still here). An agent acks every answer once it has persisted it.
   */
  private ackWanted = 0;
  private ackWantedSince = 0;
  /** Made on the first Error the agent sends (most never send one). */
  private errorLog: RateLimitedWarning | undefined;
  private readonly notices: TokenBucket;
  /** Made on the first SecretsRequest (an agent sends a few in its life). */
  private secretsBudget: SecretsBudget | undefined;
  private readonly readFrames: TokenBucket;
  private readonly readBytes: TokenBucket;
  private readTimer: NodeJS.Timeout | undefined;
  private readPausedBefore = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly peer: Peer,
    agentId: string,
    view: string,
    /** This connection's number in its gateway: presence ignores a replaced connection's close. */
    readonly conn: number,
    /** The agent's IP address (presence shows it). */
    readonly address: string,
    /** Address and port, for logs: two processes sharing one identity come from one host, too. */
    readonly remote: string = address,
  ) {
    this.agentId = agentId;
    this.view = view;
    const now = Date.now();
    this.syncBudget = new TokenBucket(SYNC_BUDGET.bytes, SYNC_BUDGET.bytesPerSecond, now);
    this.notices = new TokenBucket(NOTICES.burst, NOTICES.perSecond, now);
    this.readFrames = new TokenBucket(READ_BUDGET.frames, READ_BUDGET.framesPerSecond, now);
    this.readBytes = new TokenBucket(READ_BUDGET.bytes, READ_BUDGET.bytesPerSecond, now);
  }

  get ready(): boolean {
    return this.helloed && !this.closed;
  }

  /** Bytes queued to this agent and not yet written out. */
  get unwrittenBytes(): number {
    return this.unwritten;
  }

  onFrame(frame: Uint8Array): void {
    if (this.closed) return;
    const now = Date.now();
    this.lastHeardAt = now;
    this.meterRead(now, frame.byteLength);
    let env;
    try {
      env = decodeEnvelope(frame, this.ctx.maxFrameBytes);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.fail(ErrorCode.malformedFrame, `${err.message}; closing this connection`, CloseCode.malformedFrame);
      return;
    }
    if (!this.helloed && env.body !== 'hello') {
      this.fail(ErrorCode.unexpectedMessage, `expected Hello first, got ${env.body}`, CloseCode.malformedFrame);
      return;
    }
    switch (env.body) {
      case 'hello':
        return this.onHello(env.hello!);
      case 'sync':
        return this.onSync(env.sync?.since ?? 0);
      case 'ack':
        return this.onAck(env.ack?.revision ?? 0);
      case 'status':
        return this.ctx.statuses.offer(this, env.status!, frame.byteLength);
      case 'secretsRequest':
        return this.onSecretsRequest(env.secretsRequest?.clusters ?? []);
      case 'heartbeat':
        this.ctx.events.seen(this.agentId);
        return;
      case 'error':
        return this.onAgentError(env.error);
      default:
        this.fail(ErrorCode.unexpectedMessage, `${env.body} is not sent by agents`, CloseCode.malformedFrame);
    }
  }

  /**
   * The agent's view changed at `revision`. At most one Poke is outstanding until the agent syncs; the
   * gateway calls this once per batch of writes, so writes in one tick share one Poke.
   */
  poke(revision: number): void {
    if (!this.ready) return;
    // A write can be answered before its Poke goes out (a Sync read it in the same tick). Marking such a
    // Poke outstanding would wait for a Sync the agent never sends, and silence every later Poke.
    if (revision <= this.agentRevision || this.pokedRevision > this.agentRevision) return;
    this.pokedRevision = revision;
    this.send({ poke: { revision } });
  }

  /** `stalledMs`: how long this process's loop was stalled lately; not counted as the agent's silence. */
  heartbeat(now: number, stalledMs = 0): void {
    if (this.closed) return;
    if (now - stalledMs - this.lastHeardAt > this.ctx.heartbeatIntervalMs * MISSED_HEARTBEATS_BEFORE_CLOSE) {
      this.ctx.log.info({ agent: this.agentId }, 'agent silent for three heartbeat intervals; closing');
      this.peer.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
      this.closed = true;
      return;
    }
    // Sending is not being heard: a peer that writes but never reads is as gone as a silent one, and
    // everything queued to it is held in this process's memory.
    // And once everything sent fits in the sockets' buffers, only the missing Ack of an answer shows it.
    const writeStalledMs = this.unwritten > 0 ? now - stalledMs - this.stalledSince : 0;
    const unackedMs = this.ackWantedSince ? now - stalledMs - this.ackWantedSince : 0;
    const limitMs = this.ctx.heartbeatIntervalMs * NOT_READING_INTERVALS;
    if (writeStalledMs > limitMs || unackedMs > limitMs || this.unwritten > MAX_UNWRITTEN_BYTES) {
      this.ctx.log.warn(
        { agent: this.agentId, remote: this.remote, unwrittenBytes: this.unwritten, stalledMs: writeStalledMs, unackedMs, unackedRevision: this.ackWanted || undefined },
        'agent is not reading what the hub sends; closing its connection (it reconnects and resumes from its last acked revision)',
      );
      this.dropNotReading();
      return;
    }
    // Nothing to add while frames still wait: the agent hears those first.
    if (this.helloed && this.unwritten === 0 && heartbeatDue(now, this.lastSentAt, this.ctx.heartbeatIntervalMs)) this.send({ heartbeat: { sentAtMs: now } });
  }

  /** Tells the agent a Status was not recorded, and why (the Ack that clears its outbox follows). */
  statusRefused(refused: StatusRefusal): void {
    this.send({ error: { code: refused.code, message: refused.message } });
  }

  /** Every Status up to `seq` is recorded or refused. */
  statusesDone(seq: number): void {
    this.send({ ack: { statusSeq: seq } });
  }

  /** Tells the agent something it sent was limited, not refused (non-fatal). */
  notice(code: string, message: string): void {
    this.send({ error: { code, message } });
  }

  private onHello(hello: NonNullable<Envelope['hello']>): void {
    if (this.helloed) {
      this.fail(ErrorCode.unexpectedMessage, 'Hello sent twice', CloseCode.malformedFrame);
      return;
    }
    if (hello.protocolMajor !== PROTOCOL_MAJOR) {
      this.fail(
        ErrorCode.unsupportedProtocol,
        `protocol ${hello.protocolMajor}.${hello.protocolMinor} is not supported by this hub (speaks ${PROTOCOL_MAJOR}.x); install an agent of a matching release`,
        CloseCode.unsupportedProtocol,
      );
      return;
    }
    if (hello.agentId && hello.agentId !== this.agentId) {
      this.fail(ErrorCode.unexpectedMessage, `Hello names agent ${hello.agentId} but the credential is ${this.agentId}`, CloseCode.unauthorized);
      return;
    }
    this.helloed = true;
    this.agentRevision = Number(hello.lastRevision ?? 0);
    this.ctx.events.connected(this.agentId, this.conn, { version: hello.version ?? 'unknown', address: this.address, sshPublicKey: hello.sshPublicKey ?? '', encryptionKey: hello.encryptionKey ?? '' });
    this.send({
      welcome: {
        hubRevision: this.ctx.reads.revision(),
        heartbeatIntervalMs: this.ctx.heartbeatIntervalMs,
        maxFrameBytes: this.ctx.maxFrameBytes,
        protocolMajor: PROTOCOL_MAJOR,
        protocolMinor: PROTOCOL_MINOR,
        view: this.view,
        ...(this.ctx.bundleKey ? { bundleKey: this.ctx.bundleKey } : {}),
      },
    });
  }

  private onSync(since: number): void {
    this.syncWanted = since;
    this.agentRevision = Math.max(this.agentRevision, since);
    this.answerSync();
  }

  /** Answers the waiting Sync if the last answer has left and the byte budget allows; else later. */
  private answerSync(): void {
    if (this.syncWanted === undefined || this.closed) return;
    // Resumed by written() once the peer has read enough.
    if (this.unwritten > SYNC_LOW_WATER_BYTES) return;
    const now = Date.now();
    if (!this.syncBudget.ready(now)) {
      this.syncTimer ??= setTimeout(() => {
        this.syncTimer = undefined;
        this.answerSync();
      }, this.syncBudget.msUntil(now));
      return;
    }
    const since = this.syncWanted;
    this.syncWanted = undefined;
    // Read now: the answer holds every write so far, so the next write needs a Poke again.
    const sync = this.ctx.reads.syncView(this.view, since);
    this.agentRevision = Math.max(this.agentRevision, sync.revision);
    const frames = changesFrames(sync, since, Math.min(CHANGES_CHUNK_BYTES, this.ctx.maxFrameBytes / 2));
    let bytes = 0;
    this.ackWanted = sync.revision;
    this.ackWantedSince = 0;
    frames.forEach((frame, i) => {
      const last = i === frames.length - 1;
      // The Ack is due from when the answer has left: a slow link is not a peer that does not read.
      bytes += this.send(frame, last ? () => (this.ackWantedSince = this.ackWanted ? Date.now() : 0) : undefined);
    });
    this.syncBudget.charge(now, bytes);
    this.servedRevision = Math.max(this.servedRevision, sync.revision);
  }

  private onAck(revision: number): void {
    if (!revision) return;
    if (revision > this.servedRevision) {
      // An agent acks only what it was sent and has persisted; anything else would make presence (and
      // every operator reading it) believe the agent holds revisions that do not exist.
      if (this.notices.take(Date.now())) {
        this.notice(ErrorCode.invalidAck, `Ack of revision ${revision} refused: this connection was sent revision ${this.servedRevision} at most; ack the revision of the Changes you persisted`);
      }
      return;
    }
    if (revision >= this.ackWanted) {
      this.ackWanted = 0;
      this.ackWantedSince = 0;
    }
    this.ctx.events.acked(this.agentId, revision);
  }

  /** Answers every ref: those within the budget as the source says, the rest refused here. */
  private onSecretsRequest(refs: readonly ObjectRef[]): void {
    const now = Date.now();
    this.secretsBudget ??= new SecretsBudget(now);
    const { asked, refused } = this.secretsBudget.split(refs, now);
    if (asked.length === 0) return this.sendSecrets(refused);
    this.ctx.secrets.clusterSecrets(this.agentId, this.view, asked, (entries) => this.sendSecrets([...entries, ...refused]));
  }

  /** As few Secrets frames as fit well below the frame limit (a cluster's CAs are some 10 KiB). */
  private sendSecrets(entries: readonly ClusterSecret[]): void {
    const limit = this.ctx.maxFrameBytes / 2;
    let frame: ClusterSecret[] = [];
    let bytes = 0;
    for (const e of entries) {
      const size = encodeEnvelope({ secrets: { clusters: [e] } }).byteLength;
      if (frame.length && bytes + size > limit) {
        this.send({ secrets: { clusters: frame } });
        frame = [];
        bytes = 0;
      }
      frame.push(e);
      bytes += size;
    }
    this.send({ secrets: { clusters: frame } });
  }

  private onAgentError(error: Envelope['error']): void {
    this.errorLog ??= new RateLimitedWarning(this.ctx.log, 'agent reported an error', ERROR_LOG_EVERY_MS);
    this.errorLog.note({ agent: this.agentId, code: clip(error?.code, MAX_LOGGED_CODE), message: clip(error?.message, MAX_LOGGED_MESSAGE) });
  }

  /** Charges one frame read; pauses reading once the budget is spent, until it is back. */
  private meterRead(now: number, bytes: number): void {
    this.readFrames.charge(now, 1);
    this.readBytes.charge(now, bytes);
    if (this.readTimer || (this.readFrames.ready(now) && this.readBytes.ready(now))) return;
    if (!this.readPausedBefore) {
      this.readPausedBefore = true;
      this.ctx.log.warn({ agent: this.agentId, remote: this.remote, ...READ_BUDGET }, 'agent sends more frames than the hub reads from one agent; reading its connection more slowly');
    }
    this.peer.pause();
    // The silence deadline must not count the time the hub itself did not read.
    this.readTimer = setTimeout(() => {
      this.readTimer = undefined;
      this.lastHeardAt = Date.now();
      if (!this.closed) this.peer.resume();
    }, Math.max(this.readFrames.msUntil(now), this.readBytes.msUntil(now)));
  }

  /** Returns the frame's size; `written` runs once it has left this process. */
  private send(env: Envelope, written?: () => void): number {
    if (this.closed) return 0;
    const frame = encodeEnvelope(env);
    const now = Date.now();
    this.lastSentAt = now;
    if (this.unwritten === 0) this.stalledSince = now;
    this.unwritten += frame.byteLength;
    this.peer.send(frame, () => {
      this.written(frame.byteLength);
      written?.();
    });
    return frame.byteLength;
  }

  private written(bytes: number): void {
    this.unwritten -= bytes;
    this.stalledSince = Date.now();
    if (this.syncWanted !== undefined && this.unwritten <= SYNC_LOW_WATER_BYTES) this.answerSync();
  }

  private dropNotReading(): void {
    this.closed = true;
    this.clearTimers();
    this.peer.terminate();
  }

  private fail(code: string, message: string, closeCode: number): void {
    this.ctx.log.warn({ agent: this.agentId, code, message }, 'closing agent connection');
    this.send({ error: { code, message, fatal: true } });
    this.peer.close(closeCode, code);
    this.closed = true;
    this.clearTimers();
  }

  private clearTimers(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    if (this.readTimer) clearTimeout(this.readTimer);
    this.syncTimer = undefined;
    this.readTimer = undefined;
    this.syncWanted = undefined;
  }

  onClose(): void {
    this.closed = true;
    this.clearTimers();
  }
}
