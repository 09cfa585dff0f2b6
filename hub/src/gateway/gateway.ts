// The agents' WebSocket endpoint in one process: authenticates the upgrade by credential, runs one
// AgentSession per socket, pokes sessions whose view a write touched, and sweeps heartbeats. It reads
// and reports through GatewayReads / AgentEvents, so the same code runs inside the hub process or in
// each of several gateway processes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_PATH, CloseCode, ErrorCode, keyOfRef, keyString, MAX_STATUS_BYTES, type Status } from '@outpost/proto';
import { WebSocketServer, type WebSocket } from 'ws';
import { viewOf } from '../auth/agent-identity.js';
import { ALL_AGENTS_VIEW } from '../store/views.js';
import type { AgentEvents, GatewayReads } from './agent-events.js';
import { AgentSession, type SessionContext } from './agent-session.js';
import type { SecretsSource } from './cluster-secrets.js';
import { PokeBatch } from './poke-batch.js';
import { replacedReason, ReplacementLog } from './replacements.js';
import { AGENT_STATUS_RATE, StatusThrottle, type StatusRate } from './status-throttle.js';
import { refuseUpgrade } from './upgrade-refusal.js';

export interface GatewayOptions {
  reads: GatewayReads;
  events: AgentEvents;
  /** Answers SecretsRequests (cluster-secrets.ts): the store here, or the primary over IPC. */
  secrets: SecretsSource;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  log: SessionContext['log'];
  /** Statuses one agent may have recorded; default AGENT_STATUS_RATE. */
  statusRate?: StatusRate;
}

/**
 * A Status frame this large is refused unread: its status could never be kept (MAX_STATUS_BYTES is of
 * its JSON, which is larger than its protobuf), and holding it while it waits for the throttle would let
 * one agent park megabytes per object here.
 */
const MAX_STATUS_FRAME_BYTES = 2 * MAX_STATUS_BYTES;
/** How often an agent whose statuses are coalesced is told so (and the hub logs it). */
const TELL_COALESCED_EVERY_MS = 10_000;

interface ThrottledStatus {
  view: string;
  status: Status;
}

/** Heartbeat sweep slices per interval. */
const SWEEP_SLICES = 50;

interface Connection {
  session: AgentSession;
  socket: WebSocket;
}

export class AgentGateway {
  private readonly wss: WebSocketServer;
  private readonly byAgent = new Map<string, Connection>();
  private readonly byView = new Map<string, Set<AgentSession>>();
  private readonly slices = Array.from({ length: SWEEP_SLICES }, () => new Set<AgentSession>());
  private readonly ctx: SessionContext;
  private readonly sweep: NodeJS.Timeout;
  private readonly pokes = new PokeBatch((views, revision) => this.flushPokes(views, revision));
  /** Per agent, across its connections (a reconnect does not refill its bucket); dropped once idle. */
  private readonly throttles = new Map<string, StatusThrottle<ThrottledStatus>>();
  private readonly statusRate: StatusRate;
  private readonly replacements = new ReplacementLog();
  private nextConn = 1;
  private stopped = false;

  constructor(opts: GatewayOptions) {
    this.statusRate = opts.statusRate ?? AGENT_STATUS_RATE;
    this.ctx = {
      reads: opts.reads,
      events: opts.events,
      statuses: { offer: (session, status, frameBytes) => this.offerStatus(session, status, frameBytes) },
      secrets: opts.secrets,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      maxFrameBytes: opts.maxFrameBytes,
      log: opts.log,
    };
    // No per-message deflate: its zlib context costs ~300 KB per socket, and frames are small protobuf.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    // One slice of the sessions per tick, not all of them at once: a sweep of 15,000 sessions in one go
    // holds the loop for tens of milliseconds, which every change in flight then waits for.
    let tick = 0;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const session of this.slices[tick % SWEEP_SLICES]!) session.heartbeat(now);
      if (tick++ % SWEEP_SLICES === 0) this.forgetIdleThrottles();
    }, opts.heartbeatIntervalMs / SWEEP_SLICES);
    this.sweep.unref();
  }

  get size(): number {
    return this.byAgent.size;
  }

  /** For the HTTP server's 'upgrade' event. Returns false when the path is not the agents'. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return false;
    if (this.stopped) {
      refuseUpgrade(socket, 503, 'ServiceUnavailable', 'the hub is shutting down; the agent connects again by itself');
      return true;
    }
    const auth = this.ctx.reads.authenticate(req.headers.authorization);
    if ('refused' in auth) {
      refuseUpgrade(socket, 401, 'Unauthorized', auth.refused);
      return true;
    }
    const agentId = auth.agent.metadata.name ?? '';
    const view = viewOf(auth.agent);
    const address = req.socket.remoteAddress ?? '';
    const remote = `${address.includes(':') ? `[${address}]` : address}:${req.socket.remotePort ?? 0}`;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, agentId, view, address, remote));
    return true;
  }

  private accept(ws: WebSocket, agentId: string, view: string, address: string, remote: string): void {
    const peer = {
      send: (frame: Uint8Array, written: () => void) => ws.send(frame, written),
      close: (code: number, reason: string) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    };
    const session = new AgentSession(this.ctx, peer, agentId, view, this.nextConn++, address, remote);
    const previous = this.byAgent.get(agentId);
    if (previous) {
      this.replacements.replaced(this.ctx.log, agentId, previous.session.remote, remote);
      previous.socket.close(CloseCode.replaced, replacedReason(remote));
    }
    this.throttles.get(agentId)?.connected();
    this.byAgent.set(agentId, { session, socket: ws });
    let viewSet = this.byView.get(view);
    if (!viewSet) this.byView.set(view, (viewSet = new Set()));
    viewSet.add(session);
    const slice = this.slices[session.conn % SWEEP_SLICES]!;
    slice.add(session);

    ws.on('message', (data, isBinary) => {
      // text frames are never Envelopes: treated as malformed
      session.onFrame(isBinary ? (data instanceof Buffer ? data : Buffer.concat(data as Buffer[])) : new Uint8Array());
    });
    ws.on('error', (err) => this.ctx.log.info({ agent: agentId, err: err.message }, 'agent socket error'));
    ws.on('close', () => {
      session.onClose();
      slice.delete(session);
      viewSet.delete(session);
      if (viewSet.size === 0) this.byView.delete(view);
      if (this.byAgent.get(agentId)?.session === session) {
        this.byAgent.delete(agentId);
        if (!this.stopped) this.ctx.events.disconnected(agentId, session.conn);
      }
    });
  }

  /** A Status from `session`: through its agent's throttle, answered on the agent's current connection. */
  private offerStatus(session: AgentSession, status: Status, frameBytes: number): void {
    const agentId = session.agentId;
    const throttle = this.throttleOf(agentId);
    const seq = status.seq ?? 0;
    if (frameBytes > MAX_STATUS_FRAME_BYTES) {
      session.statusRefused({ code: ErrorCode.statusTooLarge, message: `a Status frame of ${frameBytes} bytes was refused unread: a status is kept up to ${MAX_STATUS_BYTES} bytes of JSON; report fewer or shorter conditions and messages` });
      throttle.settled(seq);
      return;
    }
    const key = `${keyString(keyOfRef(status.ref))}${status.finalized ? '#finalized' : ''}`;
    if (throttle.offer(key, seq, { view: session.view, status }) === 'waiting' && throttle.tellDue(TELL_COALESCED_EVERY_MS)) {
      const { perSecond, burst } = this.statusRate;
      this.ctx.log.warn({ agent: agentId, coalesced: throttle.coalesced, waiting: throttle.waitingCount, perSecond, burst }, 'agent reports statuses faster than the hub records them; the latest of each object is recorded at the limit');
      session.notice(
        ErrorCode.rateLimited,
        `statuses above ${perSecond}/s (bursts of ${burst}) are coalesced: the latest report of each object is recorded within about ${Math.ceil(throttle.waitingCount / perSecond)} s and acked then; ${throttle.coalesced} reports waited`,
      );
      throttle.coalesced = 0;
    }
  }

  private throttleOf(agentId: string): StatusThrottle<ThrottledStatus> {
    let throttle = this.throttles.get(agentId);
    if (throttle) return throttle;
    throttle = new StatusThrottle<ThrottledStatus>(
      this.statusRate,
      ({ view, status }, done) => this.ctx.events.status(agentId, view, status, (refused) => {
        if (refused) this.byAgent.get(agentId)?.session.statusRefused(refused);
        done();
      }),
      (seq) => this.byAgent.get(agentId)?.session.statusesDone(seq),
    );
    this.throttles.set(agentId, throttle);
    return throttle;
  }

  private forgetIdleThrottles(): void {
    for (const [agentId, throttle] of this.throttles) if (throttle.idle()) this.throttles.delete(agentId);
  }

  /** Closes an agent whose credential was revoked or deleted, or (with `conn`) one connection of it. */
  disconnect(agentId: string, code: number = CloseCode.unauthorized, reason = 'agent revoked', conn?: number): void {
    const c = this.byAgent.get(agentId);
    if (c && (conn === undefined || c.session.conn === conn)) c.socket.close(code, reason);
  }

  /** Writes touched `views` at `revision`: one Poke per touched session, sent after this tick's writes. */
  poke(views: Iterable<string>, revision: number): void {
    this.pokes.add(views, revision);
  }

  private flushPokes(views: ReadonlySet<string>, revision: number): void {
    if (views.has(ALL_AGENTS_VIEW)) {
      for (const { session } of this.byAgent.values()) session.poke(revision);
      return;
    }
    for (const v of views) for (const s of this.byView.get(v) ?? []) s.poke(revision);
  }

  /** The agents connected here, with their connection numbers (a hub stop records them disconnected). */
  connectedAgents(): Array<{ agentId: string; conn: number }> {
    return [...this.byAgent.values()].map(({ session }) => ({ agentId: session.agentId, conn: session.conn }));
  }

  /**
   * Closes every agent socket (agents reconnect elsewhere or later) and waits up to `graceMs` for the
   * closing handshakes before cutting what is left. Idempotent. The caller records who disconnected.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweep);
    for (const throttle of this.throttles.values()) throttle.stop();
    const sockets = [...this.byAgent.values()];
    const closed = sockets.map(({ socket }) => new Promise<void>((resolve) => {
      if (socket.readyState === socket.CLOSED) return resolve();
      socket.once('close', () => resolve());
      socket.close(CloseCode.goingAway, 'hub shutting down');
    }));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(closed), grace]);
    for (const { socket } of sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
