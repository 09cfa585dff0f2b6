// A flow's unit of work, as in Gardener's pkg/utils/flow: named, idempotent, with the steps it waits for.

export interface StepRetry {
  /** Attempts in all, the first included; 1 means no retry. */
  attempts: number;
  /** Backoff between attempts: capped exponential with full jitter, as the work queue's. */
  baseMs: number;
  capMs: number;
}

/** What a step's run is told about the attempt it is making. */
export interface StepAttempt {
  readonly flowId: string;
  readonly revision: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly attempts: number;
}

export interface FlowStep {
  /** Unique within the flow; the journal, progress and errors name the step by it. */
  readonly name: string;
  /** Steps that must have succeeded before this one starts. */
  readonly dependsOn?: readonly string[];
  /** The host this step works on, so its errors can name it (a cluster's `lastErrors[].host`). */
  readonly host?: string;
  /** Each attempt's signal fires after this many ms. Default: no timeout. */
  readonly timeoutMs?: number;
  /** Default: one attempt. An error whose `retryable` is false is not retried. */
  readonly retry?: StepRetry;
  /**
   * Does the step's work. Must be idempotent: after a crash the step runs again from its start. Must honour
   * `signal` (its timeout, or the flow's abort): the flow waits for run to return before it retries or ends,
   * so two attempts of one step never overlap. A run that resolves despite its signal counts as done.
   */
  run(signal: AbortSignal, attempt: StepAttempt): Promise<void>;
}
