// The agents' WebSocket endpoint in one process: authenticates the upgrade by credential, runs one
// AgentSession per socket, pokes sessions whose view a write touched, and sweeps heartbeats. It reads
// and reports through GatewayReads / AgentEvents, so the same code runs inside the hub process or in
// each of several gateway processes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_PATH, CloseCode } from '@outpost/proto';
import { WebSocketServer, type WebSocket } from 'ws';
import { viewOf } from '../auth/agent-identity.js';
import { ALL_AGENTS_VIEW } from '../store/views.js';
import type { AgentEvents, GatewayReads } from './agent-events.js';
import { AgentSession, type SessionContext } from './agent-session.js';
import { PokeBatch } from './poke-batch.js';
import { refuseUpgrade } from './upgrade-refusal.js';

export interface GatewayOptions {
  reads: GatewayReads;
  events: AgentEvents;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  log: SessionContext['log'];
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
  private nextConn = 1;
  private stopped = false;

  constructor(opts: GatewayOptions) {
    this.ctx = { reads: opts.reads, events: opts.events, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, log: opts.log };
    // No per-message deflate: its zlib context costs ~300 KB per socket, and frames are small protobuf.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    // One slice of the sessions per tick, not all of them at once: a sweep of 15,000 sessions in one go
    // holds the loop for tens of milliseconds, which every change in flight then waits for.
    let tick = 0;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const session of this.slices[tick++ % SWEEP_SLICES]!) session.heartbeat(now);
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
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, agentId, view, req.socket.remoteAddress ?? ''));
    return true;
  }

  private accept(ws: WebSocket, agentId: string, view: string, address: string): void {
    const session = new AgentSession(this.ctx, { send: (frame) => ws.send(frame), close: (code, reason) => ws.close(code, reason) }, agentId, view, this.nextConn++, address);
    this.byAgent.get(agentId)?.socket.close(CloseCode.replaced, 'replaced by a newer connection of the same agent');
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
