import { describe, expect, it } from 'vitest';
import { UploadSlots } from './upload-slots.js';

/** A task that runs until its release() is called, recording when it started. */
function gate(log: string[], name: string): { task: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    release: () => release(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('UploadSlots', () => {
  it('runs at most `limit` tasks at once, the waiting ones in the order they came', async () => {
    const slots = new UploadSlots(1);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((n) => gate(log, n)) as [ReturnType<typeof gate>, ReturnType<typeof gate>, ReturnType<typeof gate>];
    const runs = [slots.run(undefined, a.task), slots.run(undefined, b.task), slots.run(undefined, c.task)];
    await tick();
    expect(log).toEqual(['start a']);
    expect(slots.load).toEqual({ active: 1, waiting: 2 });
    a.release();
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    b.release();
    c.release();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(slots.load).toEqual({ active: 0, waiting: 0 });
  });

  it('frees the slot when a task fails', async () => {
    const slots = new UploadSlots(1);
    await expect(slots.run(undefined, () => Promise.reject(new Error('upload dropped')))).rejects.toThrow('upload dropped');
    expect(await slots.run(undefined, () => Promise.resolve('next'))).toBe('next');
  });

  it('gives up a waiting place when its signal aborts, and runs none of that task', async () => {
    const slots = new UploadSlots(1);
    const log: string[] = [];
    const a = gate(log, 'a');
    const running = slots.run(undefined, a.task);
    const ac = new AbortController();
    let ran = false;
    const waiting = slots.run(ac.signal, async () => void (ran = true));
    await tick();
    ac.abort(new Error('the step was cancelled'));
    await expect(waiting).rejects.toThrow('the step was cancelled');
    expect(slots.load).toEqual({ active: 1, waiting: 0 });
    a.release();
    await running;
    expect(ran).toBe(false);
    await expect(slots.run(ac.signal, async () => 'late')).rejects.toThrow('the step was cancelled');
  });

  it('refuses a limit below one', () => {
    expect(() => new UploadSlots(0)).toThrow(/at least 1, not 0/);
  });
});
