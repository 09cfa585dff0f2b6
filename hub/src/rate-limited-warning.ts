// A warning that an attacker can trip thousands of times a second, logged at most once per interval:
// the first occurrence at once (an operator sees the attack start), then one line per interval with how
// many more there were, the last one's details, and (after a quiet spell) one last line for the rest.
export interface WarnLog {
  warn(obj: object, msg: string): void;
}

export class RateLimitedWarning {
  private nextAt = 0;
  private suppressed = 0;
  private latest: object = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: WarnLog,
    private readonly message: string,
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** One occurrence; `fields` (the address, the counts) go into the line that reports it. */
  note(fields: object = {}): void {
    const t = this.now();
    this.suppressed++;
    this.latest = fields;
    if (t >= this.nextAt) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.nextAt - t).unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed > 0) this.emit(this.suppressed, this.latest, this.now());
  }

  private emit(occurrences: number, fields: object, t: number): void {
    this.suppressed = 0;
    this.latest = {};
    this.nextAt = t + this.everyMs;
    this.log.warn({ ...fields, occurrences }, this.message);
  }

  /** Drops what is still suppressed (at shutdown). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
