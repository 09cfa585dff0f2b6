// Where the hub reads the time: the store's timestamps, audit times, token expiry, presence and audit
// retention all ask a Clock, so tests move time forward instead of sleeping.
import { rfc3339 } from '@outpost/proto';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The clock's now in RFC 3339, whole seconds (as Kubernetes writes timestamps, and as they sort as text). */
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
