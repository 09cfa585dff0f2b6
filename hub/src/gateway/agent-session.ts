// One connected agent, as the hub sees it: Hello, then Syncs answered with Changes, Acks, Statuses and
// Heartbeats. Talks to its socket only through Peer, so the protocol logic is testable without one.
import {
  CHANGES_CHUNK_BYTES, CloseCode, decodeEnvelope, encodeEnvelope, ErrorCode, FrameError, heartbeatDue, MISSED_HEARTBEATS_BEFORE_CLOSE, PROTOCOL_MAJOR, PROTOCOL_MINOR,
  type Envelope, type Status,
} from '@outpost/proto';
import type { AgentEvents, GatewayReads } from './agent-events.js';
import { changesFrames } from './changes-frames.js';

export interface Peer {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Shared by every session of a gateway: one object, not a copy per connection. */
export interface SessionContext {
  reads: GatewayReads;
  events: AgentEvents;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export class AgentSession {
  readonly agentId: string;
  readonly view: string;
  private helloed = false;
  /** A Poke is out and the agent has not synced since: more writes need no further Poke. */
  private pokeOutstanding = false;
  lastHeardAt = Date.now();
  /** When this hub last sent the agent anything (see heartbeatDue). */
  private lastSentAt = 0;
  closed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly peer: Peer,
    agentId: string,
    view: string,
    /** This connection's number in its gateway: presence ignores a replaced connection's close. */
    readonly conn: number,
    private readonly address: string,
  ) {
    this.agentId = agentId;
    this.view = view;
  }

  get ready(): boolean {
    return this.helloed && !this.closed;
  }

  onFrame(frame: Uint8Array): void {
    this.lastHeardAt = Date.now();
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
        if (env.ack?.revision) this.ctx.events.acked(this.agentId, env.ack.revision);
        return;
      case 'status':
        return this.onStatus(env.status!);
      case 'heartbeat':
        this.ctx.events.seen(this.agentId);
        return;
      case 'error':
        this.ctx.log.warn({ agent: this.agentId, code: env.error?.code, message: env.error?.message }, 'agent reported an error');
        return;
      default:
        this.fail(ErrorCode.unexpectedMessage, `${env.body} is not sent by agents`, CloseCode.malformedFrame);
    }
  }

  /**
   * The agent's view changed at `revision`. At most one Poke is outstanding until the agent syncs; the
   * gateway calls this once per batch of writes, so writes in one tick share one Poke.
   */
  poke(revision: number): void {
    if (!this.ready || this.pokeOutstanding) return;
    this.pokeOutstanding = true;
    this.send({ poke: { revision } });
  }

  heartbeat(now: number): void {
    if (this.closed) return;
    if (now - this.lastHeardAt > this.ctx.heartbeatIntervalMs * MISSED_HEARTBEATS_BEFORE_CLOSE) {
      this.ctx.log.info({ agent: this.agentId }, 'agent silent for three heartbeat intervals; closing');
      this.peer.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
      this.closed = true;
      return;
    }
    if (this.helloed && heartbeatDue(now, this.lastSentAt, this.ctx.heartbeatIntervalMs)) this.send({ heartbeat: { sentAtMs: now } });
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
    this.ctx.events.connected(this.agentId, this.conn, hello.version ?? 'unknown', this.address);
    this.send({
      welcome: {
        hubRevision: this.ctx.reads.revision(),
        heartbeatIntervalMs: this.ctx.heartbeatIntervalMs,
        maxFrameBytes: this.ctx.maxFrameBytes,
        protocolMajor: PROTOCOL_MAJOR,
        protocolMinor: PROTOCOL_MINOR,
        view: this.view,
      },
    });
  }

  private onSync(since: number): void {
    this.pokeOutstanding = false;
    const sync = this.ctx.reads.syncView(this.view, since);
    for (const frame of changesFrames(sync, since, Math.min(CHANGES_CHUNK_BYTES, this.ctx.maxFrameBytes / 2))) this.send(frame);
  }

  private onStatus(status: Status): void {
    this.ctx.events.status(this.agentId, this.view, status, (refused) => {
      // Acked all the same: a refused status is final, and the agent's outbox must move past it.
      if (refused) this.send({ error: { code: refused.code, message: refused.message } });
      this.send({ ack: { statusSeq: status.seq ?? 0 } });
    });
  }

  private send(env: Envelope): void {
    if (this.closed) return;
    this.lastSentAt = Date.now();
    this.peer.send(encodeEnvelope(env));
  }

  private fail(code: string, message: string, closeCode: number): void {
    this.ctx.log.warn({ agent: this.agentId, code, message }, 'closing agent connection');
    this.send({ error: { code, message, fatal: true } });
    this.peer.close(closeCode, code);
    this.closed = true;
  }

  onClose(): void {
    this.closed = true;
  }
}
