// Admission control for connection storms: while this process's event loop lags, new connections are
// closed at once, before any TLS work. Handshakes already under way then finish inside the agents'
// timeouts instead of all of them timing out together; the refused agents back off (capped exponential,
// full jitter) and come back spread out. A refused connection costs an accept and a close.

export interface LoadShedderOptions {
  /** Shed while the loop lags by more than this. Default 100 ms. */
  maxLagMs?: number;
  /** How often the lag is sampled. Default 20 ms. */
  sampleEveryMs?: number;
}

export class LoadShedder {
  private lagMs = 0;
  private readonly timer: NodeJS.Timeout;
  /** Connections refused so far, for logs and the bench. */
  shed = 0;
  private readonly maxLagMs: number;

  constructor(opts: LoadShedderOptions = {}, now: () => number = () => performance.now()) {
    this.maxLagMs = opts.maxLagMs ?? 100;
    const every = opts.sampleEveryMs ?? 20;
    let expected = now() + every;
    this.timer = setInterval(() => {
      const t = now();
      this.lagMs = Math.max(0, t - expected);
      expected = t + every;
    }, every);
    this.timer.unref();
  }

  get overloaded(): boolean {
    return this.lagMs > this.maxLagMs;
  }

  /** For a server's 'connection' event: true when the socket was refused. */
  refuse(socket: { destroy(): void }): boolean {
    if (!this.overloaded) return false;
    this.shed++;
    socket.destroy();
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Sheds `server`'s new connections (ahead of its TLS listener) while this process is overloaded. */
export function shedWhenOverloaded(server: { prependListener(event: 'connection', fn: (socket: { destroy(): void }) => void): unknown }, log: { warn(o: object, m: string): void }): LoadShedder {
  const shedder = new LoadShedder();
  server.prependListener('connection', (socket) => void shedder.refuse(socket));
  let reported = 0;
  const report = setInterval(() => {
    if (shedder.shed === reported) return;
    log.warn({ refused: shedder.shed - reported }, 'overloaded: refused new connections (they back off and retry)');
    reported = shedder.shed;
  }, 5000);
  report.unref();
  const stop = shedder.stop.bind(shedder);
  shedder.stop = () => {
    clearInterval(report);
    stop();
  };
  return shedder;
}
