// Checks a flow's steps once, at construction, so a bad definition fails where it is written and not
// halfway through provisioning a cluster: names unique, dependencies known, no cycle, options sane.
import { backoffLimits } from './backoff.js';
import { FlowDefinitionError, InvalidOptionsError } from './errors.js';
import type { FlowStep } from './flow-step.js';

export interface FlowGraph {
  /** Every step, by name, in definition order. */
  readonly steps: ReadonlyMap<string, FlowStep>;
  /** Names in an order where every step comes after all it depends on. */
  readonly order: readonly string[];
}

export function buildFlowGraph(flow: string, steps: readonly FlowStep[]): FlowGraph {
  const byName = new Map<string, FlowStep>();
  for (const step of steps) {
    checkStep(flow, step);
    if (byName.has(step.name)) throw new FlowDefinitionError(flow, 'duplicate-step', [step.name], `two steps are named "${step.name}"`);
    byName.set(step.name, step);
  }
  for (const step of steps) {
    for (const dep of step.dependsOn ?? []) {
      if (!byName.has(dep)) throw new FlowDefinitionError(flow, 'unknown-dependency', [step.name, dep], `step "${step.name}" depends on "${dep}", which is not a step of this flow`);
    }
  }
  return { steps: byName, order: topologicalOrder(flow, steps) };
}

function checkStep(flow: string, step: FlowStep): void {
  const invalid = (detail: string): FlowDefinitionError => new FlowDefinitionError(flow, 'invalid-step', [step.name], detail);
  if (typeof step.name !== 'string' || !step.name) throw invalid('every step needs a non-empty name');
  if (step.timeoutMs !== undefined && !(step.timeoutMs > 0 && Number.isFinite(step.timeoutMs))) {
    throw invalid(`step "${step.name}": timeoutMs must be a finite number > 0, not ${step.timeoutMs}`);
  }
  if (!step.retry) return;
  if (!Number.isInteger(step.retry.attempts) || step.retry.attempts < 1) throw invalid(`step "${step.name}": retry.attempts must be a whole number >= 1, not ${step.retry.attempts}`);
  try {
    backoffLimits(step.retry, `step "${step.name}" retry`);
  } catch (err) {
    if (err instanceof InvalidOptionsError) throw invalid(err.message);
    throw err;
  }
}

/** Depth-first, visiting steps in definition order; a dependency met again while still open is a cycle. */
function topologicalOrder(flow: string, steps: readonly FlowStep[]): string[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const order: string[] = [];
  const closed = new Set<string>();
  const open: string[] = [];
  const visit = (name: string): void => {
    if (closed.has(name)) return;
    const at = open.indexOf(name);
    if (at >= 0) {
      const cycle = [...open.slice(at), name];
      throw new FlowDefinitionError(flow, 'cycle', cycle, `its steps depend on each other in a cycle: ${cycle.join(' -> ')}`);
    }
    open.push(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) visit(dep);
    open.pop();
    closed.add(name);
    order.push(name);
  };
  for (const step of steps) visit(step.name);
  return order;
}
