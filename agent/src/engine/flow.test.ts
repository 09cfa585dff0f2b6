import { describe, expect, it } from 'vitest';
import { sleep } from './clock.js';
import { FlowAbortedError, FlowDefinitionError, FlowFailedError, FlowJournalError, StepTimeoutError } from './errors.js';
import type { FlowJournal } from './flow-journal.js';
import type { FlowProgress } from './flow-progress.js';
import type { FlowRunOptions } from './flow-run-options.js';
import type { FlowStep } from './flow-step.js';
import { Flow } from './flow.js';
import { ManualClock } from './manual-clock.js';
import { MemoryFlowJournal } from './memory-flow-journal.js';

/** Writes "name+T" when a step starts and "name-T" when it succeeds, T being the fake clock's time. */
class Script {
  readonly log: string[] = [];
  readonly runs = new Map<string, number>();
  constructor(readonly clock: ManualClock) {}

  /** A step that takes `ms` on the clock (honouring its signal), failing its first `failures` attempts. */
  step(name: string, ms: number, extra: Partial<FlowStep> & { failures?: number } = {}): FlowStep {
    let failures = extra.failures ?? 0;
    return {
      name,
      ...extra,
      run: async (signal) => {
        this.runs.set(name, (this.runs.get(name) ?? 0) + 1);
        this.log.push(`${name}+${this.clock.now()}`);
        await sleep(this.clock, ms, signal);
        if (failures-- > 0) throw new Error(`${name} broke`);
        this.log.push(`${name}-${this.clock.now()}`);
      },
    };
  }
}

type Settled = { ok: true; value: FlowProgress } | { ok: false; error: unknown };

/** Starts the run and advances the fake clock until it settles (or `maxMs` passes). */
async function runOn(clock: ManualClock, flow: Flow, opts: Partial<FlowRunOptions> = {}, maxMs = 100_000): Promise<Settled> {
  let settled: Settled | undefined;
  void flow.run({ flowId: 'Cluster/p/c1/provision', revision: 'gen-1', clock, random: () => 0.5, ...opts }).then(
    (value) => (settled = { ok: true, value }),
    (error: unknown) => (settled = { ok: false, error }),
  );
  for (let t = 0; !settled && t < maxMs; t += 10) await clock.advance(10);
  if (!settled) throw new Error(`flow still running after ${maxMs} ms`);
  return settled;
}

function failure(s: Settled): Error {
  if (s.ok) throw new Error('the flow succeeded');
  return s.error as Error;
}

describe('Flow definition', () => {
  const noop = (name: string, dependsOn?: string[]): FlowStep => ({ name, ...(dependsOn && { dependsOn }), run: async () => undefined });
  const problem = (steps: FlowStep[]): [string, readonly string[], string] => {
    try {
      new Flow('provision', steps);
    } catch (err) {
      if (!(err instanceof FlowDefinitionError)) throw err;
      return [err.problem, err.steps, err.message];
    }
    throw new Error('no error');
  };

  it('refuses duplicate names, unknown dependencies and cycles, naming the steps', () => {
    expect(problem([noop('a'), noop('b'), noop('a')])).toEqual(['duplicate-step', ['a'], 'flow "provision" is invalid: two steps are named "a"']);
    expect(problem([noop('a'), noop('b', ['a', 'etcd'])])).toEqual([
      'unknown-dependency',
      ['b', 'etcd'],
      'flow "provision" is invalid: step "b" depends on "etcd", which is not a step of this flow',
    ]);
    expect(problem([noop('a', ['c']), noop('b', ['a']), noop('c', ['b']), noop('d')])).toEqual([
      'cycle',
      ['a', 'c', 'b', 'a'],
      'flow "provision" is invalid: its steps depend on each other in a cycle: a -> c -> b -> a',
    ]);
    expect(problem([noop('a', ['a'])])).toEqual(['cycle', ['a', 'a'], 'flow "provision" is invalid: its steps depend on each other in a cycle: a -> a']);
  });

  it('refuses bad timeouts and retries, and empty names', () => {
    expect(problem([{ ...noop('a'), timeoutMs: 0 }])[2]).toBe('flow "provision" is invalid: step "a": timeoutMs must be a finite number > 0, not 0');
    expect(problem([{ ...noop('a'), retry: { attempts: 0, baseMs: 1, capMs: 1 } }])[0]).toBe('invalid-step');
    expect(problem([{ ...noop('a'), retry: { attempts: 3, baseMs: 10, capMs: 1 } }])[2]).toBe(
      'flow "provision" is invalid: step "a" retry: needs 0 < baseMs (10) <= capMs (1), both finite',
    );
    expect(problem([noop('')])[0]).toBe('invalid-step');
  });

  it('lists its steps in definition order', () => {
    expect(new Flow('f', [noop('z'), noop('a', ['z']), noop('m')]).stepNames).toEqual(['z', 'a', 'm']);
  });
});

describe('Flow run', () => {
  it('runs steps after their dependencies, independent ones in parallel', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const flow = new Flow('f', [s.step('a', 100), s.step('b', 50, { dependsOn: ['a'] }), s.step('c', 80, { dependsOn: ['a'] }), s.step('d', 10, { dependsOn: ['b', 'c'] }), s.step('e', 30)]);
    const result = await runOn(clock, flow);
    expect(result.ok).toBe(true);
    // d waits for the slower of b and c; e, depending on nothing, runs from the start beside a.
    expect(s.log).toEqual(['a+0', 'e+0', 'e-30', 'a-100', 'b+100', 'c+100', 'b-150', 'c-180', 'd+180', 'd-190']);
    expect(result.ok && result.value).toEqual({ state: 'Succeeded', percent: 100, currentSteps: [], errors: [], time: new Date(190).toISOString() });
  });

  it('gives each attempt a signal that fires on the step timeout, and reports the timeout', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const seen: unknown[] = [];
    const slow: FlowStep = {
      name: 'wait-apiserver',
      timeoutMs: 100,
      retry: { attempts: 2, baseMs: 40, capMs: 40 },
      run: async (signal) => {
        s.log.push(`wait+${clock.now()}`);
        await sleep(clock, 1000, signal).catch((err: unknown) => {
          seen.push(err);
          throw new Error('aborted');
        });
      },
    };
    const err = failure(await runOn(clock, new Flow('f', [slow])));
    // The first attempt times out at 100, waits 40 * 0.5, the second times out 100 later.
    expect(s.log).toEqual(['wait+0', 'wait+120']);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeInstanceOf(StepTimeoutError);
    expect(err).toBeInstanceOf(FlowFailedError);
    expect((err as FlowFailedError).errors).toEqual([{ step: 'wait-apiserver', message: 'step "wait-apiserver" timed out after 100 ms', time: new Date(220).toISOString(), attempt: 2 }]);
  });

  it('counts a step that finishes despite its timeout as done', async () => {
    const clock = new ManualClock();
    const stubborn: FlowStep = { name: 'x', timeoutMs: 10, run: () => sleep(clock, 50) };
    const result = await runOn(clock, new Flow('f', [stubborn]));
    expect(result.ok && result.value.state).toBe('Succeeded');
  });

  it('retries a failed attempt with backoff and goes on when it succeeds', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const attempts: number[] = [];
    const flaky = s.step('join', 10, { failures: 2, retry: { attempts: 3, baseMs: 100, capMs: 1000 } });
    const counted: FlowStep = { ...flaky, run: (signal, a) => (attempts.push(a.attempt), flaky.run(signal, a)) };
    const result = await runOn(clock, new Flow('f', [counted, s.step('after', 5, { dependsOn: ['join'] })]));
    expect(result.ok).toBe(true);
    // Fails at 10 and waits 50; fails at 70 and waits 100; succeeds at 180.
    expect(s.log).toEqual(['join+0', 'join+60', 'join+170', 'join-180', 'after+180', 'after-185']);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('does not retry an error that says retrying cannot help', async () => {
    const clock = new ManualClock();
    let runs = 0;
    const refused: FlowStep = {
      name: 'connect',
      retry: { attempts: 5, baseMs: 10, capMs: 10 },
      run: async () => {
        runs++;
        throw Object.assign(new Error('host key changed'), { retryable: false });
      },
    };
    const err = failure(await runOn(clock, new Flow('f', [refused])));
    expect(runs).toBe(1);
    expect((err as FlowFailedError).errors).toMatchObject([{ step: 'connect', message: 'host key changed', attempt: 1 }]);
  });

  it('after a final failure starts nothing new, lets running steps finish, and fails with the errors', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const journal = new MemoryFlowJournal();
    const flow = new Flow('f', [
      s.step('a', 10),
      s.step('b', 10, { dependsOn: ['a'], failures: 1, host: 'node-1' }),
      s.step('c', 50, { dependsOn: ['a'] }),
      s.step('d', 10, { dependsOn: ['b'] }),
      s.step('e', 10, { dependsOn: ['c'] }),
    ]);
    const err = failure(await runOn(clock, flow, { journal }));
    expect(s.log).toEqual(['a+0', 'a-10', 'b+10', 'c+10', 'c-60']);
    expect(err).toBeInstanceOf(FlowFailedError);
    const report = (err as FlowFailedError).report;
    expect(report).toEqual({
      state: 'Failed',
      percent: 40,
      currentSteps: ['b'],
      errors: [{ step: 'b', host: 'node-1', message: 'b broke', time: new Date(20).toISOString(), attempt: 1 }],
      time: new Date(60).toISOString(),
    });
    expect(err.message).toBe('flow "Cluster/p/c1/provision" failed at 40%: step "b" on node-1: b broke; the next run resumes at the failed step');
    expect(journal.load('Cluster/p/c1/provision')).toEqual({ revision: 'gen-1', done: ['a', 'c'] });
  });

  it('ends promptly on an outer abort: running steps are signalled, retries and later steps never start', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const ac = new AbortController();
    const journal = new MemoryFlowJournal();
    const flow = new Flow('f', [
      s.step('a', 10),
      s.step('retrying', 20, { dependsOn: ['a'], failures: 5, retry: { attempts: 5, baseMs: 1000, capMs: 1000 } }),
      s.step('long', 500, { dependsOn: ['a'] }),
      s.step('later', 10, { dependsOn: ['long'] }),
    ]);
    clock.setTimeout(() => ac.abort(new Error('agent stopping')), 100);
    const err = failure(await runOn(clock, flow, { journal, signal: ac.signal }));
    expect(err).toBeInstanceOf(FlowAbortedError);
    expect(err.cause).toEqual(new Error('agent stopping'));
    expect(s.log).toEqual(['a+0', 'a-10', 'retrying+10', 'long+10']);
    expect((err as FlowAbortedError).report).toMatchObject({ state: 'Aborted', percent: 25, currentSteps: ['retrying', 'long'], time: new Date(100).toISOString() });
    expect(err.message).toBe('flow "Cluster/p/c1/provision" was aborted at 25%: agent stopping');
    expect(journal.load('Cluster/p/c1/provision')?.done).toEqual(['a']);
  });

  it('runs nothing when the signal has already fired', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const err = failure(await runOn(clock, new Flow('f', [s.step('a', 10)]), { signal: AbortSignal.abort(new Error('gone')) }));
    expect(err).toBeInstanceOf(FlowAbortedError);
    expect(s.log).toEqual([]);
  });

  it('reports each transition, mapping onto lastOperation and lastErrors', async () => {
    const clock = new ManualClock();
    const s = new Script(clock);
    const seen: FlowProgress[] = [];
    const flow = new Flow('f', [
      s.step('a', 10),
      s.step('b', 30, { dependsOn: ['a'], failures: 1, host: 'h1', retry: { attempts: 2, baseMs: 20, capMs: 20 } }),
      s.step('c', 20, { dependsOn: ['a'] }),
    ]);
    await runOn(clock, flow, { onProgress: (p) => seen.push(p) });
    const brief = seen.map((p) => `${p.state} ${p.percent}% [${p.currentSteps.join(',')}] {${p.errors.map((e) => `${e.step}#${e.attempt}`).join(',')}} @${Date.parse(p.time)}`);
    expect(brief).toEqual([
      'Processing 0% [a] {} @0',
      'Processing 33% [] {} @10',
      'Processing 33% [b,c] {} @10',
      'Processing 66% [b] {} @30',
      'Processing 66% [b] {b#1} @40',
      'Processing 100% [] {} @80',
      'Succeeded 100% [] {} @80',
    ]);
  });

  it('runs an empty flow to success at 100%', async () => {
    const clock = new ManualClock();
    const result = await runOn(clock, new Flow('f', []));
    expect(result.ok && result.value.percent).toBe(100);
  });

  it('refuses a run without a flowId', async () => {
    await expect(new Flow('f', []).run({ flowId: '', revision: '1' })).rejects.toThrow('a run needs a non-empty flowId');
  });
});

describe('Flow resume', () => {
  const names = ['ssh', 'runtime', 'binaries', 'kubeadm-init', 'cni'];
  /** A linear five-step flow; the step named `crashAt` aborts the flow on its first run, as a kill -9 would. */
  function linear(s: Script, crash?: { at: string; ac: AbortController }): Flow {
    let crashed = false;
    return new Flow(
      'site',
      names.map((name, i) => {
        const base = s.step(name, 10, i ? { dependsOn: [names[i - 1]!] } : {});
        return {
          ...base,
          run: async (signal, a) => {
            if (crash && name === crash.at && !crashed) {
              crashed = true;
              s.clock.setTimeout(() => crash.ac.abort(new Error('kill -9')), 5);
            }
            await base.run(signal, a);
          },
        };
      }),
    );
  }

  it.each(names.map((n, i) => [i, n] as const))('resumes at step %i (%s) after a crash while it ran', async (i, name) => {
    const s = new Script(new ManualClock());
    const journal = new MemoryFlowJournal();
    const ac = new AbortController();
    expect(failure(await runOn(s.clock, linear(s, { at: name, ac }), { journal, signal: ac.signal }))).toBeInstanceOf(FlowAbortedError);
    expect(journal.load('Cluster/p/c1/provision')).toEqual(i ? { revision: 'gen-1', done: names.slice(0, i) } : undefined);
    s.runs.clear();
    const resumed = await runOn(s.clock, linear(s), { journal });
    expect(resumed.ok && resumed.value.state).toBe('Succeeded');
    // Before the crash point: not again. The crashed step and all after it: exactly once more.
    expect(names.map((n) => s.runs.get(n) ?? 0)).toEqual(names.map((_, j) => (j < i ? 0 : 1)));
    expect(journal.load('Cluster/p/c1/provision')).toBeUndefined();
  });

  it('resumes a parallel flow with only the steps that had not finished', async () => {
    const s = new Script(new ManualClock());
    const journal = new MemoryFlowJournal();
    const ac = new AbortController();
    const steps = (): FlowStep[] => [s.step('a', 10), s.step('b', 100, { dependsOn: ['a'] }), s.step('c', 20, { dependsOn: ['a'] }), s.step('d', 10, { dependsOn: ['b', 'c'] })];
    s.clock.setTimeout(() => ac.abort(new Error('kill -9')), 50);
    await runOn(s.clock, new Flow('f', steps()), { journal, signal: ac.signal });
    s.log.length = 0;
    const progress: FlowProgress[] = [];
    await runOn(s.clock, new Flow('f', steps()), { journal, onProgress: (p) => progress.push(p) });
    expect(s.log.map((l) => l.replace(/[+-]\d+$/, (m) => m[0]!))).toEqual(['b+', 'b-', 'd+', 'd-']);
    expect(progress[0]).toMatchObject({ percent: 50, currentSteps: ['b'] });
  });

  it('starts over when the revision changed', async () => {
    const s = new Script(new ManualClock());
    const journal = new MemoryFlowJournal();
    const ac = new AbortController();
    await runOn(s.clock, linear(s, { at: 'kubeadm-init', ac }), { journal, signal: ac.signal });
    expect(journal.load('Cluster/p/c1/provision')?.done).toEqual(['ssh', 'runtime', 'binaries']);
    s.runs.clear();
    const seen: Array<string | undefined> = [];
    const result = await runOn(s.clock, linear(s), { journal, revision: 'gen-2', onProgress: () => seen.push(journal.load('Cluster/p/c1/provision')?.revision) });
    expect(result.ok).toBe(true);
    expect(names.map((n) => s.runs.get(n))).toEqual([1, 1, 1, 1, 1]);
    // The old revision's record was dropped at the start, so no step was taken as done by mistake.
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toBe('gen-2');
  });

  it('runs every step again after a success: the journal only holds a flow that has not finished', async () => {
    const s = new Script(new ManualClock());
    const journal = new MemoryFlowJournal();
    await runOn(s.clock, linear(s), { journal });
    await runOn(s.clock, linear(s), { journal });
    expect(names.map((n) => s.runs.get(n))).toEqual([2, 2, 2, 2, 2]);
  });

  it('does not skip a recorded step whose dependency is not recorded (a step added by an upgrade)', async () => {
    const s = new Script(new ManualClock());
    const journal = new MemoryFlowJournal();
    journal.stepDone('Cluster/p/c1/provision', 'gen-1', 'old');
    journal.stepDone('Cluster/p/c1/provision', 'gen-1', 'other');
    await runOn(s.clock, new Flow('f', [s.step('new', 10), s.step('old', 10, { dependsOn: ['new'] }), s.step('other', 10)]), { journal });
    expect(s.log).toEqual(['new+0', 'new-10', 'old+10', 'old-20']);
  });

  it('fails with FlowJournalError when the journal cannot be read or written', async () => {
    const s = new Script(new ManualClock());
    const broken = (what: keyof FlowJournal): FlowJournal => {
      const j = new MemoryFlowJournal();
      return Object.assign(j, {
        [what]: () => {
          throw new Error('disk I/O error');
        },
      });
    };
    const load = failure(await runOn(s.clock, linear(s), { journal: broken('load') }));
    expect(load).toBeInstanceOf(FlowJournalError);
    expect(load.message).toBe('flow "Cluster/p/c1/provision": the journal could not read its record: disk I/O error');
    expect(s.log).toEqual([]);
    const write = failure(await runOn(s.clock, linear(s), { journal: broken('stepDone') }));
    expect(write).toBeInstanceOf(FlowFailedError);
    expect((write as FlowFailedError).errors[0]?.message).toBe('flow "Cluster/p/c1/provision": the journal could not record step "ssh" done: disk I/O error');
    expect(s.runs.get('runtime')).toBeUndefined();
    expect(failure(await runOn(s.clock, linear(s), { journal: broken('clear') }))).toBeInstanceOf(FlowJournalError);
  });
});
