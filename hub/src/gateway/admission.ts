// Admission control for connection storms. New connections arrive paused (pauseOnConnect) and reach the
// TLS server only while this process keeps up: a queue in front of TLS, drained while the event loop lags
// by less than maxLagMs, at most admitPerSample per sample. A storm then costs the agents some waiting,
// not failed handshakes that push them to long backoffs; a connection that waited past maxWaitMs (its
// agent is about to give up anyway) is closed without any TLS work.
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
}

interface Waiting<S> {
  socket: S;
  at: number;
}

export class Admission<S extends { destroy(): void }> {
  private lagMs = 0;
  private queue: Array<Waiting<S>> = [];
  private admittedThisSample = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly o: Required<AdmissionOptions>;
  /** Connections closed after waiting too long, for logs and the bench. */
  refused = 0;

  constructor(
    private readonly admit: (socket: S) => void,
    opts: AdmissionOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.o = { maxLagMs: opts.maxLagMs ?? 100, sampleEveryMs: opts.sampleEveryMs ?? 20, admitPerSample: opts.admitPerSample ?? 50, maxWaitMs: opts.maxWaitMs ?? 5000 };
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

  private get open(): boolean {
    return this.lagMs <= this.o.maxLagMs && this.admittedThisSample < this.o.admitPerSample;
  }

  /** For the server's 'connection' event. */
  offer(socket: S): void {
    if (this.queue.length === 0 && this.open) return this.pass(socket);
    this.queue.push({ socket, at: this.now() });
  }

  private pass(socket: S): void {
    this.admittedThisSample++;
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
export function admitWhenReady(server: NetServer, log: { warn(o: object, m: string): void }, opts?: AdmissionOptions): { stop(): void } {
  const tlsListeners = server.listeners('connection');
  server.removeAllListeners('connection');
  const admission = new Admission<Socket>((socket) => {
    // Closed while it waited (by the connection guard, to make room, or by its client): no TLS for it.
    if (socket.destroyed) return;
    for (const l of tlsListeners) Reflect.apply(l, server, [socket]);
  }, opts);
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
  };
}
