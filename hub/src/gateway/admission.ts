// Admission control for connection storms. New connections arrive paused (pauseOnConnect) and reach the
// TLS server only while this process keeps up: a queue in front of TLS, drained while the event loop lags
// by less than maxLagMs, at most admitPerSample per sample. A storm then costs the agents some waiting,
// not failed handshakes that push them to long backoffs; a connection that waited past maxWaitMs (its
// agent is about to give up anyway) is closed without any TLS work. At most maxInFlight admitted
// connections may be in their TLS handshake at once: admission paces accepts to what the process
// completes, so a storm cannot start more handshakes than the loop finishes.
import type { Server as NetServer, Socket } from 'node:net';

export interface AdmissionOptions {
  /** Admit while the loop lags by less than this. Default 100 ms. */
  maxLagMs?: number;
  /** How often the lag is sampled and the queue drained. Default 20 ms. */
  sampleEveryMs?: number;
  /** Connections admitted per sample at most. Default 50 (2,500 a second). */
  admitPerSample?: number;
  /** A connection queued this long is closed. Default 5 s (agents give a handshake 10 s). */
  maxWaitMs?: number;
  /**
   * Admitted connections still in their TLS handshake at most. Default 1,000. A handshake in flight
   * waits on its client as much as on this process: at 200, a 5,000-agent bench whose simulator was
   * the slow side kept admission full of handshakes the clients were slow to finish, and connections
   * queued behind them timed out (reconnect 33 s, the hub at 22 % CPU for its first 11 s).
   */
  maxInFlight?: number;
}

interface Waiting<S> {
  socket: S;
  at: number;
}

export class Admission<S extends { destroy(): void }> {
  private lagMs = 0;
  private queue: Array<Waiting<S>> = [];
  private admittedThisSample = 0;
  private inFlight = 0;
  private drainSoon = false;
  private readonly timer: NodeJS.Timeout;
  private readonly o: Required<AdmissionOptions>;
  /** Connections closed after waiting too long, for logs and the bench. */
  refused = 0;

  constructor(
    private readonly admit: (socket: S) => void,
    opts: AdmissionOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.o = { maxLagMs: opts.maxLagMs ?? 100, sampleEveryMs: opts.sampleEveryMs ?? 20, admitPerSample: opts.admitPerSample ?? 50, maxWaitMs: opts.maxWaitMs ?? 5000, maxInFlight: opts.maxInFlight ?? 1000 };
    let expected = now() + this.o.sampleEveryMs;
    this.timer = setInterval(() => {
      const t = now();
      this.lagMs = Math.max(0, t - expected);
      expected = t + this.o.sampleEveryMs;
      this.admittedThisSample = 0;
      this.drain();
    }, this.o.sampleEveryMs);
    this.timer.unref();
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Admitted and not yet settled (see settled). */
  get handshaking(): number {
    return this.inFlight;
  }

  private get open(): boolean {
    return this.lagMs <= this.o.maxLagMs && this.admittedThisSample < this.o.admitPerSample && this.inFlight < this.o.maxInFlight;
  }

  /** An admitted connection finished its handshake or closed: room for the next one at once. */
  settled(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    // Drained on the next turn, not from inside a drain that admitted a socket already closed.
    if (this.queue.length && !this.drainSoon) {
      this.drainSoon = true;
      setImmediate(() => {
        this.drainSoon = false;
        this.drain();
      });
    }
  }

  /** For the server's 'connection' event. */
  offer(socket: S): void {
    if (this.queue.length === 0 && this.open) return this.pass(socket);
    this.queue.push({ socket, at: this.now() });
  }

  private pass(socket: S): void {
    this.admittedThisSample++;
    this.inFlight++;
    this.admit(socket);
  }

  private drain(): void {
    const t = this.now();
    let i = 0;
    for (; i < this.queue.length; i++) {
      const w = this.queue[i]!;
      if (t - w.at > this.o.maxWaitMs) {
        this.refused++;
        w.socket.destroy();
      } else if (this.open) this.pass(w.socket);
      else break;
    }
    if (i > 0) this.queue = this.queue.slice(i);
  }

  /** Stops sampling and closes whatever still waits. */
  stop(): void {
    clearInterval(this.timer);
    for (const w of this.queue) w.socket.destroy();
    this.queue = [];
  }
}

/**
 * Puts admission in front of an HTTPS server made with pauseOnConnect: its own (TLS) connection
 * listeners run for a socket only once that socket is admitted.
 */
export function admitWhenReady(server: NetServer, log: { warn(o: object, m: string): void }, opts?: AdmissionOptions): { stop(): void; backlog(): number } {
  const tlsListeners = server.listeners('connection');
  server.removeAllListeners('connection');
  // In their TLS handshake, by peer: the TLS socket that finishes is not the TCP socket admitted.
  const handshaking = new Set<string>();
  const settle = (peer: string): void => {
    if (handshaking.delete(peer)) admission.settled();
  };
  const admission = new Admission<Socket>((socket) => {
    // Closed while it waited (by the connection guard, to make room, or by its client): no TLS for it.
    if (socket.destroyed) return admission.settled();
    const peer = `${socket.remoteAddress}|${socket.remotePort}`;
    handshaking.add(peer);
    socket.once('close', () => settle(peer));
    for (const l of tlsListeners) Reflect.apply(l, server, [socket]);
  }, opts);
  server.on('secureConnection', (tls: Socket) => settle(`${tls.remoteAddress}|${tls.remotePort}`));
  server.on('connection', (socket: Socket) => admission.offer(socket));
  let reported = 0;
  const report = setInterval(() => {
    if (admission.refused === reported) return;
    log.warn({ refused: admission.refused - reported, waiting: admission.waiting }, 'overloaded: closed connections that waited too long for admission (they back off and retry)');
    reported = admission.refused;
  }, 5000);
  report.unref();
  return {
    stop: () => {
      clearInterval(report);
      admission.stop();
    },
    backlog: () => admission.waiting + admission.handshaking,
  };
}
