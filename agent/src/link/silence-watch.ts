// When the agent may call its hub silent. The hub must be heard at least every `limitMs` (three
// heartbeat intervals), counting only time in which this process could have heard it: time its own
// event loop was stalled (a busy or CPU-starved agent, a host that was suspended) is added to the
// deadline, so a frame that sat unread in the socket buffer during the stall is not taken for silence.
// A freshly opened link gets a share of the limit more for its first frames: a hub coming out of a
// restart answers a whole fleet's Hellos at once. Pure, with the time passed in; hub-link.ts arms one timer from it.
import type { StallSource } from '@outpost/proto';

export class SilenceWatch {
  private heardAt = 0;
  private stallAtHeard = 0;
  private openedAt = 0;
  private graceShare = 0;

  constructor(
    private readonly stall: StallSource,
    private limitMs: number,
  ) {}

  /** The link opened at `now`: heard, and its first deadline `graceShare` of the limit later than others. */
  opened(now: number, graceShare: number): void {
    this.heard(now);
    this.openedAt = now;
    this.graceShare = graceShare;
  }

  /** A frame from the hub arrived. */
  heard(now: number): void {
    this.heardAt = now;
    this.stallAtHeard = this.stall.stalled(now);
  }

  /** The hub's Welcome sets the heartbeat interval, and with it the limit (and the grace). */
  setLimit(limitMs: number): void {
    this.limitMs = limitMs;
  }

  /** Milliseconds until the hub counts as silent; 0 when it is silent now. */
  remaining(now: number): number {
    const credit = this.stall.stalled(now) - this.stallAtHeard;
    const deadline = Math.max(this.heardAt + this.limitMs, this.openedAt + this.limitMs * (1 + this.graceShare)) + credit;
    return Math.max(0, deadline - now);
  }
}
