// The agents' WebSocket endpoint: authenticates the upgrade by credential, runs one AgentSession per
// socket, pokes sessions whose view a write touched, and sweeps heartbeats.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_PATH, CloseCode, type Agent } from '@outpost/proto';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticateAgent, viewOf } from '../auth/agent-identity.js';
import type { Store } from '../store/store.js';
import { ALL_AGENTS_VIEW } from '../store/views.js';
import { AgentSession, type SessionContext } from './agent-session.js';
import { Presence } from './presence.js';

export interface GatewayOptions {
  store: Store;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  log: SessionContext['log'];
}

export class AgentGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly byAgent = new Map<string, { session: AgentSession; socket: WebSocket }>();
  private readonly byView = new Map<string, Set<AgentSession>>();
  private readonly presence: Presence;
  private readonly ctx: SessionContext;
  private readonly sweep: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(private readonly opts: GatewayOptions) {
    this.presence = new Presence(opts.store);
    this.presence.markAllDisconnected();
    this.ctx = { store: opts.store, presence: this.presence, heartbeatIntervalMs: opts.heartbeatIntervalMs, maxFrameBytes: opts.maxFrameBytes, log: opts.log };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.unsubscribe = opts.store.subscribe((changes, views) => {
      this.poke(views);
      for (const ch of changes) {
        if (ch.object.kind === 'Agent' && (ch.type === 'DELETED' || (ch.object as Agent).spec?.revoked)) this.disconnect(ch.object.metadata.name ?? '');
      }
    });
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const s of this.sessions) s.heartbeat(now);
    }, opts.heartbeatIntervalMs);
    this.sweep.unref();
  }

  /** For the HTTP server's 'upgrade' event. Returns false when the path is not the agents'. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(req.url ?? '/', 'http://x').pathname !== AGENT_PATH) return false;
    const auth = authenticateAgent(this.opts.store, req.headers.authorization);
    if ('refused' in auth) {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized', message: auth.refused });
      socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, auth.agent, req.socket.remoteAddress ?? ''));
    return true;
  }

  private accept(ws: WebSocket, agent: Agent, address: string): void {
    const view = viewOf(agent);
    const session = new AgentSession(
      this.ctx,
      {
        send: (frame) => ws.send(frame),
        close: (code, reason) => ws.close(code, reason),
      },
      agent,
      view,
      address,
    );
    const previous = this.byAgent.get(session.agentId);
    if (previous) previous.socket.close(CloseCode.replaced, 'replaced by a newer connection of the same agent');
    this.byAgent.set(session.agentId, { session, socket: ws });
    this.sessions.add(session);
    let viewSet = this.byView.get(view);
    if (!viewSet) this.byView.set(view, (viewSet = new Set()));
    viewSet.add(session);

    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        session.onFrame(new Uint8Array()); // text frames are never Envelopes: treated as malformed
        return;
      }
      session.onFrame(data instanceof Buffer ? data : Buffer.concat(data as Buffer[]));
    });
    ws.on('error', (err) => this.opts.log.info({ agent: session.agentId, err: err.message }, 'agent socket error'));
    ws.on('close', () => {
      session.onClose();
      this.sessions.delete(session);
      viewSet.delete(session);
      if (viewSet.size === 0) this.byView.delete(view);
      if (this.byAgent.get(session.agentId)?.session === session) {
        this.byAgent.delete(session.agentId);
        this.presence.disconnected(session.agentId);
      }
    });
  }

  /** Closes an agent whose credential was revoked or deleted. */
  private disconnect(agentId: string): void {
    this.byAgent.get(agentId)?.socket.close(CloseCode.unauthorized, 'agent revoked');
  }

  private poke(views: ReadonlySet<string>): void {
    if (views.has(ALL_AGENTS_VIEW)) {
      for (const s of this.sessions) s.poke();
      return;
    }
    for (const v of views) for (const s of this.byView.get(v) ?? []) s.poke();
  }

  /**
   * Closes every agent socket (agents reconnect elsewhere or later), records them disconnected, and
   * waits up to `graceMs` for the closing handshakes before cutting what is left. Idempotent.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweep);
    this.unsubscribe();
    const sockets = [...this.byAgent.values()];
    for (const { session } of sockets) this.presence.disconnected(session.agentId);
    this.presence.stop();
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
