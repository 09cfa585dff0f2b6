import { describe, expect, it } from 'vitest';
import { ComponentManager } from '@outpost/proto';
import { InvalidOptionsError, WorkCancelledError } from './errors.js';
import { ManualClock } from './manual-clock.js';
import type { ReconcileResult, WorkHandler, WorkQueueOptions } from './work-queue-options.js';
import { WorkQueue } from './work-queue.js';

interface Call {
  key: string;
  at: number;
  signal: AbortSignal;
  finish: PromiseWithResolvers<ReconcileResult | void>;
}

/**
 * A handler whose every call waits until the test finishes it; with `honourAbort`, a call rejects with the
 * signal's reason as soon as it aborts, as a well-behaved handler does.
 */
function gated(clock: ManualClock, honourAbort = true): { calls: Call[]; handler: WorkHandler; keys(): string[] } {
  const calls: Call[] = [];
  const handler: WorkHandler = (key, signal) => {
    const finish = Promise.withResolvers<ReconcileResult | void>();
    if (honourAbort) signal.addEventListener('abort', () => finish.reject(signal.reason), { once: true });
    calls.push({ key, at: clock.now(), signal, finish });
    return finish.promise;
  };
  return { calls, handler, keys: () => calls.map((c) => c.key) };
}

/** A started queue whose handler is `gated`. */
async function gatedQueue(opts: Partial<WorkQueueOptions> = {}, honourAbort = true): Promise<{ clock: ManualClock; g: ReturnType<typeof gated>; q: WorkQueue }> {
  const clock = new ManualClock();
  const g = gated(clock, honourAbort);
  const q = queue(clock, g.handler, opts);
  await q.start();
  return { clock, g, q };
}

function queue(clock: ManualClock, handler: WorkHandler, opts: Partial<WorkQueueOptions> = {}): WorkQueue {
  return new WorkQueue({ handler, clock, random: () => 0.5, backoff: { baseMs: 100, capMs: 1000 }, ...opts });
}

describe('WorkQueue', () => {
  it('runs a key queued several times once, in the order keys were first added', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    const q = queue(clock, async (key) => {
      ran.push(key);
    });
    for (const k of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(k);
    expect(q.stats()).toEqual({ queued: 3, running: 0, waiting: 0, failing: 0 });
    await clock.settle();
    expect(ran).toEqual([]);
    await q.start();
    await q.idle();
    expect(ran).toEqual(['a', 'b', 'c']);
    await q.stop();
  });

  it('runs at most `concurrency` keys at once, starting the next as one finishes', async () => {
    const { clock, g, q } = await gatedQueue({ concurrency: 2 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'b']);
    expect(q.stats()).toEqual({ queued: 3, running: 2, waiting: 0, failing: 0 });
    g.calls[1]!.finish.resolve();
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'b', 'c']);
    g.calls[0]!.finish.resolve();
    g.calls[2]!.finish.resolve();
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.stats().running).toBe(2);
    g.calls[3]!.finish.resolve();
    g.calls[4]!.finish.resolve();
    await q.idle();
    expect(q.stats()).toEqual({ queued: 0, running: 0, waiting: 0, failing: 0 });
    await q.stop();
  });

  it('never runs one key twice at once: adds during a run make exactly one more run after it', async () => {
    const { clock, g, q } = await gatedQueue({ concurrency: 4 });
    q.add('a');
    await clock.settle();
    q.add('a');
    q.add('a');
    q.add('a');
    await clock.settle();
    expect(g.keys()).toEqual(['a']);
    expect(q.status('a')).toEqual({ queued: true, running: true, failures: 0 });
    expect(g.calls[0]!.signal.aborted).toBe(false);
    g.calls[0]!.finish.resolve();
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'a']);
    expect(q.status('a')).toEqual({ queued: false, running: true, failures: 0 });
    g.calls[1]!.finish.resolve();
    await q.idle();
    expect(g.keys()).toEqual(['a', 'a']);
    await q.stop();
  });

  it('retries a failing key with capped exponential backoff and full jitter, exactly', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const failures: Array<[string, string, number, number]> = [];
    const q = queue(
      clock,
      async () => {
        at.push(clock.now());
        throw new Error('ssh: connection refused');
      },
      { onFailure: (key, err, r) => failures.push([key, (err as Error).message, r.failures, r.retryInMs]) },
    );
    await q.start();
    q.add('a');
    await clock.settle();
    // random 0.5 of min(1000, 100 * 2^n): 50, 100, 200, 400, then the cap's half, 500, for ever.
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(...clock.pendingDelays());
      await clock.advance(clock.pendingDelays()[0]!);
    }
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    expect(at).toEqual([0, 50, 150, 350, 750, 1250, 1750]);
    expect(q.failures('a')).toBe(7);
    expect(q.status('a')).toEqual({ queued: false, running: false, failures: 7, nextAt: 2250 });
    expect(failures.slice(0, 3)).toEqual([
      ['a', 'ssh: connection refused', 1, 50],
      ['a', 'ssh: connection refused', 2, 100],
      ['a', 'ssh: connection refused', 3, 200],
    ]);
    await q.stop();
  });

  it('forgets the failures on success, so the next failure starts from the base delay again', async () => {
    const clock = new ManualClock();
    let fail = 3;
    const q = queue(clock, async () => {
      if (fail-- > 0) throw new Error('not yet');
    });
    await q.start();
    q.add('a');
    await clock.advance(50 + 100 + 200);
    expect(q.failures('a')).toBe(0);
    expect(q.stats()).toEqual({ queued: 0, running: 0, waiting: 0, failing: 0 });
    fail = 1;
    q.add('a');
    await clock.settle();
    expect(clock.pendingDelays()).toEqual([50]);
    expect(q.failures('a')).toBe(1);
    await q.stop();
  });

  it('keys back off independently of each other', async () => {
    const clock = new ManualClock();
    const q = queue(clock, async (key) => {
      if (key !== 'ok') throw new Error('no');
    });
    await q.start();
    q.add('bad');
    await clock.advance(150);
    q.add('worse');
    q.add('ok');
    await clock.settle();
    expect([q.failures('bad'), q.failures('worse'), q.failures('ok')]).toEqual([3, 1, 0]);
    expect(q.status('bad').nextAt).toBe(350);
    expect(q.status('worse').nextAt).toBe(200);
    await q.stop();
  });

  it('runs a key again after requeueAfterMs on success', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const q = queue(clock, async () => {
      at.push(clock.now());
      return { requeueAfterMs: 1000 };
    });
    await q.start();
    q.add('a');
    await clock.settle();
    expect(q.status('a').nextAt).toBe(1000);
    await clock.advance(2500);
    expect(at).toEqual([0, 1000, 2000]);
    await q.stop();
  });

  it('addAfter keeps the earliest of several pending adds for a key', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const q = queue(clock, async () => {
      at.push(clock.now());
    });
    await q.start();
    q.addAfter('a', 500);
    q.addAfter('a', 200);
    q.addAfter('a', 800);
    expect(clock.pendingDelays()).toEqual([200]);
    await clock.advance(1000);
    expect(at).toEqual([200]);
    q.addAfter('b', 0);
    q.addAfter('b', -5);
    await q.idle();
    expect(at).toEqual([200, 1000]);
    await q.stop();
  });

  it('adds every listed key at start and again every resyncMs, and survives a listKeys that throws', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    let keys: () => string[] = () => ['a', 'b'];
    const resyncErrors: string[] = [];
    const q = queue(
      clock,
      async (key) => {
        ran.push(`${key}@${clock.now()}`);
      },
      { listKeys: () => keys(), resyncMs: 1000, onResyncError: (e) => resyncErrors.push((e as Error).message) },
    );
    await q.start();
    await q.idle();
    expect(ran).toEqual(['a@0', 'b@0']);
    keys = () => ['c'];
    await clock.advance(1000);
    keys = () => {
      throw new Error('state closed');
    };
    await clock.advance(1000);
    keys = () => ['a'];
    await clock.advance(1000);
    expect(ran).toEqual(['a@0', 'b@0', 'c@1000', 'a@3000']);
    expect(resyncErrors).toEqual(['state closed']);
    await q.stop();
  });

  it('aborts the run in flight when its object changes, and runs it again at once without counting a failure', async () => {
    const { clock, g, q } = await gatedQueue();
    q.add('a');
    await clock.settle();
    q.add('a', { cancelInFlight: true });
    const first = g.calls[0]!;
    expect(first.signal.aborted).toBe(true);
    expect(first.signal.reason).toBeInstanceOf(WorkCancelledError);
    expect((first.signal.reason as WorkCancelledError).reason).toBe('changed');
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'a']);
    expect(g.calls[1]!.signal.aborted).toBe(false);
    expect(q.failures('a')).toBe(0);
    expect(clock.pendingDelays()).toEqual([]);
    g.calls[1]!.finish.resolve();
    await q.idle();
    expect(g.keys()).toEqual(['a', 'a']);
    await q.stop();
  });

  it('waits for an aborted run that ignores its signal before running the key again', async () => {
    const { clock, g, q } = await gatedQueue({}, false);
    q.add('a');
    await clock.settle();
    q.add('a', { cancelInFlight: true });
    await clock.settle();
    expect(g.keys()).toEqual(['a']);
    // It returns late, and successfully: that counts as a success for the old version, then the new runs.
    g.calls[0]!.finish.resolve({ requeueAfterMs: 5000 });
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'a']);
    expect(q.status('a')).toEqual({ queued: false, running: true, failures: 0, nextAt: 5000 });
    g.calls[1]!.finish.resolve();
    await q.stop();
  });

  it('cancel aborts the run in flight, resolves when it has returned, and does not run the key again', async () => {
    const { clock, g, q } = await gatedQueue({ concurrency: 1 });
    q.add('a');
    q.add('b');
    await clock.settle();
    q.add('a');
    let cancelled = false;
    const done = q.cancel('a').then(() => (cancelled = true));
    expect((g.calls[0]!.signal.reason as WorkCancelledError).reason).toBe('cancelled');
    await done;
    expect(cancelled).toBe(true);
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'b']);
    expect(q.failures('a')).toBe(0);
    await q.cancel('b');
    await q.idle();
    expect(g.keys()).toEqual(['a', 'b']);
    await q.stop();
  });

  it('cancel drops a queued key and a pending retry, and forgets its failures', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    const q = queue(clock, async (key) => {
      ran.push(key);
      if (key === 'a') throw new Error('x');
    });
    q.add('b');
    q.add('a');
    await q.cancel('b');
    await q.start();
    await clock.settle();
    expect(ran).toEqual(['a']);
    expect(clock.pendingDelays()).toEqual([50]);
    await q.cancel('a');
    expect(clock.pendingDelays()).toEqual([]);
    expect(q.status('a')).toEqual({ queued: false, running: false, failures: 0 });
    await clock.advance(10_000);
    expect(ran).toEqual(['a']);
    await q.stop();
  });

  it('a key re-added after cancel waits for the cancelled run to return', async () => {
    const { clock, g, q } = await gatedQueue({ concurrency: 2 }, false);
    q.add('a');
    await clock.settle();
    void q.cancel('a');
    q.add('a');
    await clock.settle();
    expect(g.keys()).toEqual(['a']);
    g.calls[0]!.finish.reject(new Error('aborted'));
    await clock.settle();
    expect(g.keys()).toEqual(['a', 'a']);
    expect(q.failures('a')).toBe(0);
    g.calls[1]!.finish.resolve();
    await q.stop();
  });

  it('stop aborts everything in flight, resolves only when every handler has returned, and nothing runs after', async () => {
    const { clock, g, q } = await gatedQueue({ concurrency: 2, listKeys: () => ['r'], resyncMs: 1000 }, false);
    q.add('a');
    q.add('b');
    q.addAfter('c', 300);
    await clock.settle();
    expect(g.keys()).toEqual(['r', 'a']);
    let stopped = false;
    const stopping = q.stop().then(() => (stopped = true));
    expect(g.calls.map((c) => (c.signal.reason as WorkCancelledError).reason)).toEqual(['stopped', 'stopped']);
    expect(clock.pendingDelays()).toEqual([]);
    g.calls[0]!.finish.resolve();
    await clock.settle();
    expect(stopped).toBe(false);
    g.calls[1]!.finish.reject(new Error('aborted'));
    await stopping;
    expect(stopped).toBe(true);
    q.add('d');
    q.addAfter('e', 10);
    await clock.advance(5000);
    expect(g.keys()).toEqual(['r', 'a']);
    expect(q.stats()).toEqual({ queued: 0, running: 0, waiting: 0, failing: 0 });
    expect(q.health()).toEqual({ ok: false, message: 'stopped' });
    await q.idle();
    expect(q.stop()).toBe(q.stop());
  });

  it('a failure while stopping is not retried', async () => {
    const { clock, g, q } = await gatedQueue();
    q.add('a');
    await clock.settle();
    await q.stop();
    expect(q.failures('a')).toBe(0);
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('idle waits for queued and running keys, not for pending retries', async () => {
    const { clock, g, q } = await gatedQueue();
    await q.idle();
    q.add('a');
    let idle = false;
    const waiting = q.idle().then(() => (idle = true));
    await clock.settle();
    expect(idle).toBe(false);
    g.calls[0]!.finish.reject(new Error('fail'));
    await waiting;
    expect(q.stats()).toEqual({ queued: 0, running: 0, waiting: 1, failing: 1 });
    await q.stop();
  });

  it('reports health, and goes on when onFailure throws', async () => {
    const clock = new ManualClock();
    const q = queue(
      clock,
      async () => {
        throw new Error('x');
      },
      {
        name: 'clusters',
        onFailure: () => {
          throw new Error('logger broke');
        },
      },
    );
    expect(q.name).toBe('clusters');
    expect(q.health()).toEqual({ ok: false, message: 'not started' });
    await q.start();
    q.add('a');
    await q.idle();
    expect(q.health()).toEqual({ ok: true, message: '0 running, 0 queued, 1 failing' });
    await clock.advance(50);
    expect(q.failures('a')).toBe(2);
    await q.stop();
  });

  it('is a component: a manager starts it, and stopping the manager stops its runs', async () => {
    const clock = new ManualClock();
    const g = gated(clock);
    const q = queue(clock, g.handler, { name: 'clusters', listKeys: () => ['Cluster/p/a'] });
    const manager = new ComponentManager().add(q);
    await manager.start();
    await clock.settle();
    expect(g.keys()).toEqual(['Cluster/p/a']);
    expect(manager.health()).toEqual([{ name: 'clusters', ok: true, message: '1 running, 0 queued, 0 failing' }]);
    await manager.stop();
    expect((g.calls[0]!.signal.reason as WorkCancelledError).reason).toBe('stopped');
    expect(q.health().ok).toBe(false);
  });

  it('refuses options that cannot work', () => {
    const handler: WorkHandler = async () => undefined;
    expect(() => new WorkQueue({ handler, concurrency: 0 })).toThrow(InvalidOptionsError);
    expect(() => new WorkQueue({ handler, concurrency: 1.5 })).toThrow('work queue "work-queue": concurrency must be a whole number >= 1, not 1.5');
    expect(() => new WorkQueue({ handler, resyncMs: 1000 })).toThrow('resyncMs needs listKeys');
    expect(() => new WorkQueue({ handler, listKeys: () => [], resyncMs: 0 })).toThrow(InvalidOptionsError);
    expect(() => new WorkQueue({ handler, backoff: { baseMs: 10, capMs: 5 } })).toThrow('work queue "work-queue" backoff: needs 0 < baseMs (10) <= capMs (5)');
  });
});
