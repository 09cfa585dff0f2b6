// What a running flow tells its owner: a Kubernetes-style operation state, how far it is, which steps it is
// on and what failed. It maps onto a status's `lastOperation` and `lastErrors` (see flow-status.ts).
import type { Clock } from './clock.js';
import { messageOf } from './errors.js';

export type FlowState = 'Processing' | 'Succeeded' | 'Failed' | 'Aborted';

export interface StepError {
  step: string;
  /** The step's host, when it works on one. */
  host?: string;
  message: string;
  /** When the attempt failed, ISO 8601 on the flow's clock. */
  time: string;
  /** Which attempt failed (1 for the first). */
  attempt: number;
}

export interface FlowProgress {
  state: FlowState;
  /** Done steps (those skipped as done by an earlier run included) over all steps, 0-100, rounded down. */
  percent: number;
  /**
   * The steps the flow is on, in definition order: those running (or waiting to retry) while Processing;
   * the failed ones when Failed; the ones cut short when Aborted; none when Succeeded.
   */
  currentSteps: string[];
  /** The latest error of each step that failed and has not succeeded since, oldest first. */
  errors: StepError[];
  /** When this was reported, ISO 8601 on the flow's clock. */
  time: string;
}

/** Keeps one run's progress and hands out snapshots; the flow tells it each transition. */
export class FlowProgressTracker {
  private state: FlowState = 'Processing';
  private readonly done = new Set<string>();
  private readonly running = new Set<string>();
  /** Where the flow ended, when it did not succeed. */
  private readonly stoppedAt = new Set<string>();
  private readonly errors = new Map<string, StepError>();

  constructor(
    private readonly names: readonly string[],
    private readonly hosts: ReadonlyMap<string, string | undefined>,
    private readonly clock: Clock,
    private readonly onProgress: (progress: FlowProgress) => void,
  ) {}

  isDone(step: string): boolean {
    return this.done.has(step);
  }

  allDone(): boolean {
    return this.done.size === this.names.length;
  }

  /** Steps an earlier run of the same revision finished. Not a transition: nothing is reported. */
  skipDone(step: string): void {
    this.done.add(step);
  }

  started(step: string): void {
    this.running.add(step);
  }

  succeeded(step: string): void {
    this.running.delete(step);
    this.errors.delete(step);
    this.done.add(step);
  }

  attemptFailed(step: string, error: unknown, attempt: number): void {
    const host = this.hosts.get(step);
    // Delete first, so a step failing again moves to the end: the list stays oldest first.
    this.errors.delete(step);
    this.errors.set(step, { step, ...(host === undefined ? {} : { host }), message: messageOf(error), time: this.now(), attempt });
  }

  /** The step ended without success: it failed for good, or the flow's abort cut it short. */
  ended(step: string): void {
    this.running.delete(step);
    this.stoppedAt.add(step);
  }

  finish(state: Exclude<FlowState, 'Processing'>): FlowProgress {
    this.state = state;
    return this.report();
  }

  /** Tells the owner where the flow is now, and returns the same snapshot. */
  report(): FlowProgress {
    const progress = this.snapshot();
    try {
      this.onProgress(progress);
    } catch {
      // Documented: onProgress must not throw; a status write that failed must not fail provisioning.
    }
    return progress;
  }

  private snapshot(): FlowProgress {
    const current = this.state === 'Processing' ? this.running : this.state === 'Succeeded' ? new Set<string>() : this.stoppedAt;
    return {
      state: this.state,
      percent: this.names.length ? Math.floor((this.done.size * 100) / this.names.length) : 100,
      currentSteps: this.names.filter((n) => current.has(n)),
      errors: [...this.errors.values()],
      time: this.now(),
    };
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
