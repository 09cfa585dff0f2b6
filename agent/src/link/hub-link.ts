// The agent's link to its hub: dial out over WSS, Hello, pull with Sync, persist, Ack, answer Pokes,
// heartbeat both ways, report statuses, and reconnect forever with capped exponential backoff and jitter.
// When the hub is gone nothing here touches local state: the site keeps running what it last received.
import {
  AGENT_PATH, CloseCode, decodeEnvelope, encodeEnvelope, FrameError, HEARTBEAT_INTERVAL_MS, heartbeatDue, MAX_FRAME_BYTES, MISSED_HEARTBEATS_BEFORE_CLOSE,
  PROTOCOL_MAJOR, PROTOCOL_MINOR, processLoopStall, readStatus, hubAnswersSecrets, type Change, type Envelope, type ObjectRef, type Secrets, type Welcome,
} from '@outpost/proto';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from '../engine/backoff.js';
import type { DialGate } from './dial-gate.js';
import type { AppliedChange, LocalState } from '../state/local-state.js';
import { applyChanges } from './apply-changes.js';
import { hintedDelay, retryAfterMs } from './retry-hint.js';
import { SilenceWatch } from './silence-watch.js';

export interface HubLinkOptions {
  hubUrl: string;
  agentId: string;
  /** "<agentId>.<secret>" from `outpost-agent join`. */
  credential: string;
  /** The hub CA this agent pinned at join; the only CA it trusts. */
  caCertPem: string;
  version: string;
  /** The agent's SSH public key line, told in every Hello (the hub shows it in the Agent's status). */
  sshPublicKey?: string;
  /**
   * The public half of the agent's encryption key (SPKI PEM), told in every Hello: the hub seals this
   * agent's Clusters' CAs to it in the air-gapped bundles it makes, with no status bundle first.
   */
  encryptionPublicKey?: string;
  state: LocalState;
  /** Called after a batch is persisted and acked, with what changed. */
  onApplied(changes: readonly AppliedChange[]): void;
  /** Called after every acked sync, changed or not, with the revision the agent now holds. */
  onSynced?(revision: number): void;
  /** The link is up (Welcome received), and when it went down: the cluster-keys fetcher asks again. */
  onConnected?(): void;
  onDisconnected?(): void;
  /** The hub's answer to a SecretsRequest (see requestSecrets). */
  onSecrets?(secrets: Secrets): void;
  /** The Welcome told the hub's bundle signing key (the agent pins it if it has none yet). */
  onBundleKey?(pem: string): void;
  backoff?: BackoffOptions;
  /** The wait after the hub said another connection of this identity replaced this one; added to REPLACED_MIN_MS. */
  replacedBackoff?: BackoffOptions;
  /** Local address to dial from (scale tests spread agents over 127.0.0.0/8). */
  localAddress?: string;
  /** Bounds the dials under way at once over the links of one process (dial-gate.ts: for many links in one process). */
  dialGate?: DialGate;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; debug(o: object, m: string): void };
}

export type LinkState = 'idle' | 'connecting' | 'connected' | 'stopped';

/**
 * After the hub closed this link because another connection with this identity replaced it: at least this
 * long, plus a backoff that grows with every replacement (30 s ceiling at first, 10 min at most). Two
 * processes sharing one identity then take the link from each other a few times an hour, not every
 * second, and each says why in its log.
 */
const REPLACED_MIN_MS = 15_000;
const REPLACED_BACKOFF: BackoffOptions = { baseMs: 30_000, capMs: 600_000 };
/** A link that stayed up this long was not in a tug of war: replacements count afresh. */
const REPLACED_RESET_MS = 600_000;

/** For the TCP connect, and then for TLS and the WebSocket upgrade. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The share of the silence limit a link that has just opened gets on top of it: a hub back from a
 * restart answers a whole fleet's Hellos at once (see silence-watch.ts). With three heartbeat
 * intervals as the limit, the first frames may take four and a half.
 */
const OPEN_GRACE_SHARE = 0.5;

/**
 * One TLS context per pinned CA, made once: given only `ca`, every dial parses the PEM and builds a
 * context again, which cost a reconnecting fleet of simulated agents a fifth of its CPU.
 */
const contexts = new Map<string, SecureContext>();
function contextFor(caCertPem: string): SecureContext {
  let context = contexts.get(caCertPem);
  if (!context) contexts.set(caCertPem, (context = createSecureContext({ ca: caCertPem })));
  return context;
}

export class HubLink {
  private ws: WebSocket | undefined;
  private readonly backoff: Backoff;
  private readonly replacedBackoff: Backoff;
  private connectedAt = 0;
  private state: LinkState = 'idle';
  private welcome: Welcome | undefined;
  private syncing = false;
  private syncAgain = false;
  private partial: Change[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** When the hub counts as silent; one timer per link, re-armed only when it fires (not per frame). */
  private readonly silence = new SilenceWatch(processLoopStall(), HEARTBEAT_INTERVAL_MS * MISSED_HEARTBEATS_BEFORE_CLOSE);
  /** The wait the hub asked for when it last refused an upgrade for load (503 with Retry-After). */
  private retryHintMs: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The last TLS session ticket from the hub: a reconnect resumes it instead of a full handshake. */
  private tlsSession: Buffer | undefined;
  /** When this agent last sent the hub anything (see heartbeatDue). */
  private lastSentAt = 0;
  connects = 0;
  /** Connections that resumed a TLS session (no certificate sent, signed or checked). */
  resumedConnects = 0;
  /** Links this agent closed because the hub was silent (the storm test counts them). */
  silentCloses = 0;
  /** Upgrades the hub refused for load, with a Retry-After this agent honoured. */
  shedRefusals = 0;

  constructor(private readonly opts: HubLinkOptions) {
    this.backoff = new Backoff(opts.backoff);
    this.replacedBackoff = new Backoff(opts.replacedBackoff ?? REPLACED_BACKOFF);
  }

  get linkState(): LinkState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.dial();
  }

  /** Idempotent; allowed in any state. */
  stop(): void {
    this.state = 'stopped';
    this.clearTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.close(1001, 'agent stopping');
    this.ws?.terminate();
    this.ws = undefined;
  }

  /** Sends queued statuses now if connected; otherwise they wait in local state for the next connection. */
  flushStatuses(): void {
    if (this.state !== 'connected') return;
    for (const s of this.opts.state.pendingStatuses()) this.send({ status: s });
  }

  /**
   * Asks the hub for these Clusters' CAs; false (nothing sent) unless connected to a hub that answers
   * SecretsRequest (protocol 1.1 on: a 1.0 hub would close the link on a body it does not know).
   */
  requestSecrets(refs: ObjectRef[]): boolean {
    if (this.state !== 'connected' || !hubAnswersSecrets(this.welcome)) return false;
    this.send({ secretsRequest: { clusters: refs } });
    return true;
  }

  private dial(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    if (!this.opts.dialGate) return this.dialNow(() => undefined);
    this.opts.dialGate.run((done) => {
      if (this.state === 'stopped') return done();
      this.dialNow(done);
    });
  }

  /** `ended` is called once the dial is over, opened or failed (it frees the dial gate's slot). */
  private dialNow(ended: () => void): void {
    const url = new URL(AGENT_PATH, this.opts.hubUrl.replace(/^http/, 'ws'));
    const ws = new WebSocket(url, {
      ca: this.opts.caCertPem,
      headers: { authorization: `Bearer ${this.opts.credential}` },
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
      createConnection: ((options: ConnectionOptions & { host?: string }, ready: (err: Error | null, socket?: Duplex) => void) => this.tlsDial(options, ready)) as unknown as WebSocket.ClientOptions['createConnection'],
    });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.once('close', ended);
    ws.on('open', () => {
      ended();
      this.connects++;
      this.silence.setLimit(HEARTBEAT_INTERVAL_MS * MISSED_HEARTBEATS_BEFORE_CLOSE);
      this.silence.opened(performance.now(), OPEN_GRACE_SHARE);
      this.armDeadline();
      this.send({ hello: { agentId: this.opts.agentId, version: this.opts.version, lastRevision: this.opts.state.revision(), protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR, capabilities: ['status/v1'], sshPublicKey: this.opts.sshPublicKey ?? '', encryptionKey: this.opts.encryptionPublicKey ?? '' } });
    });
    ws.on('message', (data: Buffer, isBinary) => {
      if (ws !== this.ws) return;
      if (!isBinary) return this.abort('hub sent a text frame');
      this.onFrame(data);
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const message = readStatus(text)?.message ?? text;
        this.retryHintMs = res.statusCode === 503 ? retryAfterMs(res.headers['retry-after'], Date.now()) : undefined;
        if (this.retryHintMs !== undefined) this.shedRefusals++;
        // Refused for load is the hub working as meant: debug, not a warning per agent of a fleet.
        (this.retryHintMs !== undefined ? this.opts.log.debug : this.opts.log.warn).call(this.opts.log, { status: res.statusCode, message }, 'hub refused the connection');
        ws.terminate();
      });
    });
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'hub connection error'));
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.onDisconnect(code, reason.toString());
    });
  }

  /**
   * ws's TLS dial, in two steps, plus session resumption (a ticket is only accepted by the hub that issued
   * its keys). TCP first, TLS once it connects: while the hub is down every refused attempt then costs a
   * socket, not a TLS session parsed and set up for nothing (3.4 times the CPU per refused dial here). The
   * callback form of createConnection is http.request's: the request waits for the socket it is given.
   */
  private tlsDial(options: ConnectionOptions & { host?: string; localAddress?: string }, ready: (err: Error | null, socket?: Duplex) => void): undefined {
    const servername = options.servername ?? (isIP(options.host ?? '') ? '' : options.host);
    const tcp = netConnect({ host: options.host ?? 'localhost', port: Number(options.port), ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    // The request's handshake timeout starts with its socket; until then this one bounds the dial.
    tcp.setTimeout(HANDSHAKE_TIMEOUT_MS, () => tcp.destroy(new Error(`no TCP connection to the hub within ${HANDSHAKE_TIMEOUT_MS} ms`)));
    const refused = (err: Error): void => ready(err);
    tcp.once('error', refused);
    tcp.once('connect', () => {
      tcp.setTimeout(0);
      // From here errors surface on the TLS socket, which ws watches.
      tcp.off('error', refused).on('error', () => undefined);
      const socket = tlsConnect({ ...options, socket: tcp, path: undefined, secureContext: contextFor(this.opts.caCertPem), ...(servername !== undefined ? { servername } : {}), ...(this.tlsSession ? { session: this.tlsSession } : {}) } as ConnectionOptions);
      // The hub sends two tickets per handshake; one is enough, and each one kept costs a serialisation.
      socket.once('session', (session: Buffer) => (this.tlsSession = session));
      socket.once('secureConnect', () => {
        if (socket.isSessionReused()) this.resumedConnects++;
      });
      ready(null, socket);
    });
    return undefined;
  }

  private onDisconnect(code: number, reason: string): void {
    this.clearTimers();
    this.ws = undefined;
    this.welcome = undefined;
    this.syncing = false;
    this.partial = [];
    if (this.state === 'connected') this.opts.onDisconnected?.();
    if (this.state === 'stopped') return;
    const wasConnected = this.state === 'connected';
    this.state = 'idle';
    if (code === CloseCode.replaced) return this.onReplaced(reason);
    // The hub said when it has room: that, with jitter, and no growth of the backoff for it.
    const hint = this.retryHintMs;
    this.retryHintMs = undefined;
    const delay = hint !== undefined ? hintedDelay(hint) : this.backoff.next();
    (wasConnected ? this.opts.log.info.bind(this.opts.log) : this.opts.log.debug.bind(this.opts.log))({ code, reason, retryInMs: delay }, 'disconnected from hub; will reconnect');
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  /** The hub closed this link for a newer connection of this identity: not this process's own (see onDisconnect). */
  private onReplaced(reason: string): void {
    if (Date.now() - this.connectedAt > REPLACED_RESET_MS) this.replacedBackoff.reset();
    const delay = REPLACED_MIN_MS + this.replacedBackoff.next();
    this.opts.log.warn(
      { reason, retryInMs: delay },
      `the hub closed this connection: another connection with this agent's identity (${this.opts.agentId}) replaced it. If a second outpost-agent runs with a copy of this data directory, stop it, or join it with its own bootstrap token; this agent waits ${Math.round(delay / 1000)} s before connecting again`,
    );
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  private onFrame(frame: Buffer): void {
    this.silence.heard(performance.now());
    let env;
    try {
      env = decodeEnvelope(frame, this.welcome?.maxFrameBytes || MAX_FRAME_BYTES);
    } catch (err) {
      if (err instanceof FrameError) return this.abort(`undecodable frame from hub: ${err.message}`);
      throw err;
    }
    switch (env.body) {
      case 'welcome':
        return this.onWelcome(env.welcome!);
      case 'changes':
        return this.onChanges(env.changes!);
      case 'poke':
        if ((env.poke?.revision ?? 0) > this.opts.state.revision()) this.sync();
        return;
      case 'ack':
        if (env.ack?.statusSeq) this.opts.state.statusesStored(env.ack.statusSeq);
        return;
      case 'secrets':
        return this.opts.onSecrets?.(env.secrets!);
      case 'heartbeat':
        return;
      case 'error':
        this.opts.log.warn({ code: env.error?.code, message: env.error?.message, fatal: env.error?.fatal }, 'hub reported an error');
        return;
      default:
        this.opts.log.warn({ body: env.body }, 'unexpected message from hub; ignored');
    }
  }

  private onWelcome(welcome: Welcome): void {
    if (welcome.protocolMajor !== PROTOCOL_MAJOR) return this.abort(`hub speaks protocol ${welcome.protocolMajor}, this agent ${PROTOCOL_MAJOR}`);
    this.welcome = welcome;
    this.state = 'connected';
    if (welcome.bundleKey) this.opts.onBundleKey?.(welcome.bundleKey);
    this.connectedAt = Date.now();
    this.opts.log.info({ view: welcome.view, hubRevision: welcome.hubRevision, localRevision: this.opts.state.revision() }, 'connected to hub');
    const interval = welcome.heartbeatIntervalMs || HEARTBEAT_INTERVAL_MS;
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (heartbeatDue(now, this.lastSentAt, interval)) this.send({ heartbeat: { sentAtMs: now } });
    }, interval);
    this.silence.setLimit(interval * MISSED_HEARTBEATS_BEFORE_CLOSE);
    this.armDeadline();
    if (!hubAnswersSecrets(welcome)) {
      this.opts.log.warn({ hubProtocol: `${welcome.protocolMajor}.${welcome.protocolMinor}` }, 'this hub delivers no cluster CAs (protocol 1.1 on does); reconcilers that need them wait until the hub is upgraded');
    }
    this.sync();
    this.flushStatuses();
    this.opts.onConnected?.();
  }

  private sync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this.send({ sync: { since: this.opts.state.revision() } });
  }

  private onChanges(changes: NonNullable<Envelope['changes']>): void {
    if (!this.syncing) return this.abort('Changes without a Sync');
    this.partial.push(...(changes.changes ?? []));
    if (changes.more) return;
    const batch = this.partial;
    this.partial = [];
    const revision = changes.revision ?? 0;
    // Persist first, then ack: an acked revision is always one the agent really holds.
    const applied = applyChanges(this.opts.state, { snapshot: !!changes.snapshot, revision, changes: batch });
    this.send({ ack: { revision } });
    this.syncing = false;
    this.backoff.reset();
    this.opts.onSynced?.(revision);
    if (applied.length) this.opts.onApplied(applied);
    if (this.syncAgain) {
      this.syncAgain = false;
      this.sync();
    }
  }

  private send(env: Envelope): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.lastSentAt = Date.now();
    this.ws.send(encodeEnvelope(env));
  }

  private abort(why: string): void {
    this.opts.log.warn({ why }, 'closing hub connection');
    this.ws?.terminate();
  }

  /**
   * Arms the silence timer for when the hub would be silent. When it fires, the verdict waits one turn
   * of the loop (setImmediate runs after the poll phase): after a stall, timers run before the socket
   * reads, and a frame already waiting in the buffer is heard first. Then re-armed, or silent.
   */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const ws = this.ws;
    this.deadlineTimer = setTimeout(() => {
      setImmediate(() => {
        if (ws !== this.ws || !ws) return;
        if (this.silence.remaining(performance.now()) > 0) return this.armDeadline();
        this.silentCloses++;
        this.abort(`hub silent for ${MISSED_HEARTBEATS_BEFORE_CLOSE} heartbeat intervals${this.welcome ? '' : ' (no Welcome yet)'}`);
      });
    }, Math.max(1, this.silence.remaining(performance.now())));
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.heartbeatTimer = undefined;
    this.deadlineTimer = undefined;
  }
}
