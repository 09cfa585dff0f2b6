// A flow of named, idempotent steps with dependencies, in the spirit of Gardener's pkg/utils/flow: every
// step whose dependencies succeeded runs, independent ones in parallel; a step's final failure stops the
// flow from starting more; the journal keeps the place, so the next run resumes where this one stopped.
import { FlowAbortedError, FlowFailedError, FlowJournalError } from './errors.js';
import { buildFlowGraph, type FlowGraph } from './flow-graph.js';
import { FlowProgressTracker, type FlowProgress } from './flow-progress.js';
import { resolveFlowRunOptions, type FlowRunOptions, type ResolvedFlowRunOptions } from './flow-run-options.js';
import type { FlowStep } from './flow-step.js';
import { runStep } from './flow-step-runner.js';

export class Flow {
  private readonly graph: FlowGraph;

  /** Checks the steps now; a bad definition throws FlowDefinitionError before anything runs. */
  constructor(readonly name: string, steps: readonly FlowStep[]) {
    this.graph = buildFlowGraph(name, steps);
  }

  /** Step names in definition order. */
  get stepNames(): string[] {
    return [...this.graph.steps.keys()];
  }

  /**
   * Runs the flow for one object; resolves with the final progress when every step has succeeded (and
   * clears the journal, so the next run does the whole reconcile again). Rejects with FlowFailedError when
   * a step failed for good, FlowAbortedError when the signal fired, FlowJournalError when the journal
   * failed. Steps done by an earlier run of the same revision are skipped. One run per flowId at a time:
   * the work queue's per-key exclusion gives that.
   */
  async run(opts: FlowRunOptions): Promise<FlowProgress> {
    const o = resolveFlowRunOptions(this.name, opts);
    const steps = [...this.graph.steps.values()];
    const tracker = new FlowProgressTracker(
      steps.map((s) => s.name),
      new Map(steps.map((s) => [s.name, s.host])),
      o.clock,
      o.onProgress,
    );
    for (const name of this.resumable(o)) tracker.skipDone(name);

    let failed = false;
    const inFlight = new Map<string, Promise<void>>();
    for (;;) {
      const ready = failed || o.signal.aborted ? [] : steps.filter((s) => !tracker.isDone(s.name) && !inFlight.has(s.name) && (s.dependsOn ?? []).every((d) => tracker.isDone(d)));
      for (const step of ready) {
        tracker.started(step.name);
        const running = this.runOne(step, o, tracker).then((ok) => {
          inFlight.delete(step.name);
          if (!ok) failed = true;
        });
        inFlight.set(step.name, running);
      }
      if (ready.length) tracker.report();
      if (!inFlight.size) break;
      await Promise.race(inFlight.values());
    }

    if (tracker.allDone()) {
      try {
        o.journal.clear(o.flowId);
      } catch (err) {
        throw new FlowJournalError(o.flowId, 'clear its record after the flow succeeded', err);
      }
      return tracker.finish('Succeeded');
    }
    if (o.signal.aborted) throw new FlowAbortedError(o.flowId, tracker.finish('Aborted'), o.signal.reason);
    throw new FlowFailedError(o.flowId, tracker.finish('Failed'));
  }

  /** Runs one step to its end and records it; false when it failed for good. */
  private async runOne(step: FlowStep, o: ResolvedFlowRunOptions, tracker: FlowProgressTracker): Promise<boolean> {
    const outcome = await runStep(step, {
      flowId: o.flowId,
      revision: o.revision,
      signal: o.signal,
      clock: o.clock,
      random: o.random,
      onAttemptFailed: (error, attempt, willRetry) => {
        tracker.attemptFailed(step.name, error, attempt);
        if (willRetry) tracker.report();
      },
    });
    if (outcome.kind === 'succeeded') {
      try {
        o.journal.stepDone(o.flowId, o.revision, step.name);
      } catch (err) {
        tracker.attemptFailed(step.name, new FlowJournalError(o.flowId, `record step "${step.name}" done`, err), outcome.attempt);
        tracker.ended(step.name);
        tracker.report();
        return false;
      }
      tracker.succeeded(step.name);
      tracker.report();
      return true;
    }
    tracker.ended(step.name);
    if (outcome.kind === 'aborted') return true;
    tracker.report();
    return false;
  }

  /**
   * The steps an earlier run of this revision finished. A step counts only if all it depends on counts too:
   * an agent upgrade may have put a new step before an old one, and the old one must not run ahead of it.
   * A journal of another revision (the spec changed) is dropped: that run starts over.
   */
  private resumable(o: ResolvedFlowRunOptions): string[] {
    let record;
    try {
      record = o.journal.load(o.flowId);
      if (record && record.revision !== o.revision) o.journal.clear(o.flowId);
    } catch (err) {
      throw new FlowJournalError(o.flowId, 'read its record', err);
    }
    if (!record || record.revision !== o.revision) return [];
    const recorded = new Set(record.done);
    const done = new Set<string>();
    for (const name of this.graph.order) {
      const step = this.graph.steps.get(name);
      if (step && recorded.has(name) && (step.dependsOn ?? []).every((d) => done.has(d))) done.add(name);
    }
    return [...done];
  }
}
