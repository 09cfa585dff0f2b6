// Where the hub reads the time: the store's timestamps, audit times, token expiry, presence and audit
// retention all ask a Clock, so tests move time forward instead of sleeping.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** RFC 3339 in whole seconds, as Kubernetes writes its timestamps (and as they sort as text). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The clock's now, as rfc3339. */
export function timestamp(clock: Clock): string {
  return rfc3339(clock.now());
}

/** A clock that stands still until told to move: for tests of expiry and retention. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
