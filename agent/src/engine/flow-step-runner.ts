// Runs one step of a flow to its end: each attempt with its own AbortSignal (the step's timeout or the
// flow's abort), failed attempts retried with backoff, and the flow's abort honoured between attempts too.
import { backoffDelay, type BackoffLimits } from './backoff.js';
import { sleep, type Clock } from './clock.js';
import { StepTimeoutError } from './errors.js';
import type { FlowStep } from './flow-step.js';

export type StepOutcome = { kind: 'succeeded'; attempt: number } | { kind: 'failed'; error: unknown } | { kind: 'aborted' };

export interface StepRunContext {
  readonly flowId: string;
  readonly revision: string;
  /** The flow's signal. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly random: () => number;
  /** An attempt failed; `willRetry` says whether another follows. */
  onAttemptFailed(error: unknown, attempt: number, willRetry: boolean): void;
}

/**
 * An error that says trying again cannot help (`retryable: false`, as a changed SSH host key's does) ends
 * the step at once: its retries are for what may pass by itself, and this needs someone to act.
 */
function saysNoRetry(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false;
}

export async function runStep(step: FlowStep, ctx: StepRunContext): Promise<StepOutcome> {
  const attempts = step.retry?.attempts ?? 1;
  // Checked when the flow was built (flow-graph.ts), so these are valid limits.
  const limits: BackoffLimits = { baseMs: step.retry?.baseMs ?? 1, capMs: step.retry?.capMs ?? 1 };
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) return { kind: 'aborted' };
    const result = await attemptOnce(step, attempt, attempts, ctx);
    if (result.ok) return { kind: 'succeeded', attempt };
    // A failure the flow's own abort caused is not the step's failure.
    if (ctx.signal.aborted) return { kind: 'aborted' };
    const willRetry = attempt < attempts && !saysNoRetry(result.error);
    ctx.onAttemptFailed(result.error, attempt, willRetry);
    if (!willRetry) return { kind: 'failed', error: result.error };
    try {
      await sleep(ctx.clock, backoffDelay(attempt - 1, limits, ctx.random), ctx.signal);
    } catch {
      return { kind: 'aborted' };
    }
  }
}

async function attemptOnce(step: FlowStep, attempt: number, attempts: number, ctx: StepRunContext): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = step.timeoutMs;
  const timer = timeoutMs === undefined ? undefined : ctx.clock.setTimeout(() => controller.abort(new StepTimeoutError(step.name, timeoutMs)), timeoutMs);
  try {
    await step.run(controller.signal, { flowId: ctx.flowId, revision: ctx.revision, attempt, attempts });
    return { ok: true };
  } catch (error) {
    // After a timeout the step usually throws a bare AbortError; the timeout is what the operator must read.
    const reason: unknown = controller.signal.reason;
    return { ok: false, error: reason instanceof StepTimeoutError ? reason : error };
  } finally {
    if (timer !== undefined) ctx.clock.clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
