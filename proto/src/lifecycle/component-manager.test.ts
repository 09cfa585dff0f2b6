import { describe, expect, it } from 'vitest';
import type { Component, ComponentHealth } from './component.js';
import { ComponentManager } from './component-manager.js';
import { ComponentManagerStateError, ComponentStartError, ComponentStartInterruptedError, ComponentStopError, DuplicateComponentError } from './errors.js';

/** A component that writes what happens to it into `log`, and fails or waits where told. */
class FakeComponent implements Component {
  signal: AbortSignal | undefined;
  startGate: PromiseWithResolvers<void> | undefined;
  startError: Error | undefined;
  stopError: Error | undefined;
  healthValue: ComponentHealth | (() => ComponentHealth) = { ok: true };

  constructor(readonly name: string, private readonly log: string[]) {}

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.log.push(`start ${this.name}`);
    if (this.startGate) {
      await this.startGate.promise;
      this.log.push(`started ${this.name} (signal ${signal.aborted ? 'aborted' : 'live'})`);
    }
    if (this.startError) throw this.startError;
  }

  async stop(): Promise<void> {
    this.log.push(`stop ${this.name}`);
    await Promise.resolve();
    if (this.stopError) throw this.stopError;
  }

  health(): ComponentHealth {
    return typeof this.healthValue === 'function' ? this.healthValue() : this.healthValue;
  }
}

function setup(...names: string[]): { manager: ComponentManager; log: string[]; c: FakeComponent[] } {
  const log: string[] = [];
  const manager = new ComponentManager();
  const c = names.map((n) => new FakeComponent(n, log));
  for (const x of c) manager.add(x);
  return { manager, log, c };
}

describe('ComponentManager', () => {
  it('starts in order and stops in reverse, each awaited', async () => {
    const { manager, log, c } = setup('state', 'link', 'queue');
    await manager.start();
    expect(manager.state).toBe('running');
    expect(c[0]!.signal?.aborted).toBe(false);
    await manager.stop();
    expect(log).toEqual(['start state', 'start link', 'start queue', 'stop queue', 'stop link', 'stop state']);
    expect(manager.state).toBe('stopped');
    expect(c[0]!.signal?.aborted).toBe(true);
  });

  it('rolls back when a component fails to start, and names it', async () => {
    const { manager, log, c } = setup('a', 'b', 'c');
    c[1]!.startError = new Error('port 8443 in use');
    const err = await manager.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentStartError);
    expect((err as ComponentStartError).component).toBe('b');
    expect((err as ComponentStartError).cause).toBe(c[1]!.startError);
    expect((err as Error).message).toBe('component "b" failed to start: port 8443 in use');
    // b cleans up after its own failed start; only a was started, so only a is stopped. c never starts.
    expect(log).toEqual(['start a', 'start b', 'stop a']);
    expect(c[0]!.signal?.aborted).toBe(true);
    expect(manager.state).toBe('stopped');
    await manager.stop();
    expect(log).toEqual(['start a', 'start b', 'stop a']);
  });

  it('reports a rollback that fails as well', async () => {
    const { manager, c } = setup('a', 'b');
    c[0]!.stopError = new Error('still busy');
    c[1]!.startError = new Error('no');
    const err = (await manager.start().catch((e: unknown) => e)) as ComponentStartError;
    expect(err.rollbackFailures).toEqual([{ component: 'a', error: c[0]!.stopError }]);
    expect(err.message).toBe('component "b" failed to start: no; stopping the components started before it also failed: "a": still busy');
  });

  it('stops every component even when some fail, and throws one error listing them all', async () => {
    const { manager, log, c } = setup('a', 'b', 'c', 'd');
    c[0]!.stopError = new Error('a stuck');
    c[2]!.stopError = new Error('c stuck');
    await manager.start();
    const err = await manager.stop().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentStopError);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as ComponentStopError).failures.map((f) => f.component)).toEqual(['c', 'a']);
    expect((err as ComponentStopError).errors).toEqual([c[2]!.stopError, c[0]!.stopError]);
    expect((err as Error).message).toBe('2 component(s) failed to stop: "c": c stuck; "a": a stuck');
    expect(log.slice(4)).toEqual(['stop d', 'stop c', 'stop b', 'stop a']);
  });

  it('stop is idempotent: a second call returns the same outcome and stops nothing again', async () => {
    const { manager, log, c } = setup('a', 'b');
    c[0]!.stopError = new Error('x');
    await manager.start();
    const first = manager.stop();
    const second = manager.stop();
    expect(second).toBe(first);
    await expect(first).rejects.toBeInstanceOf(ComponentStopError);
    await expect(manager.stop()).rejects.toBeInstanceOf(ComponentStopError);
    expect(log.filter((l) => l.startsWith('stop'))).toEqual(['stop b', 'stop a']);
  });

  it('stop before start stops nothing, and start afterwards is refused', async () => {
    const { manager, log } = setup('a');
    await manager.stop();
    expect(manager.state).toBe('stopped');
    await expect(manager.start()).rejects.toBeInstanceOf(ComponentManagerStateError);
    expect(log).toEqual([]);
  });

  it('stop during start aborts the shared signal, lets the running start finish, and stops what started', async () => {
    const { manager, log, c } = setup('a', 'b', 'c');
    c[1]!.startGate = Promise.withResolvers<void>();
    const started = manager.start().catch((e: unknown) => e);
    await Promise.resolve();
    expect(log).toEqual(['start a', 'start b']);
    const stopped = manager.stop();
    expect(manager.state).toBe('stopping');
    expect(c[1]!.signal?.aborted).toBe(true);
    c[1]!.startGate.resolve();
    await stopped;
    const err = (await started) as ComponentStartInterruptedError;
    expect(err).toBeInstanceOf(ComponentStartInterruptedError);
    expect(err.notStarted).toEqual(['c']);
    expect(log).toEqual(['start a', 'start b', 'started b (signal aborted)', 'stop b', 'stop a']);
    expect(manager.state).toBe('stopped');
  });

  it('a start that fails because stop aborted it is an interruption, not a start failure', async () => {
    const { manager, log, c } = setup('a', 'b');
    c[1]!.startGate = Promise.withResolvers<void>();
    c[1]!.startError = new Error('aborted');
    const started = manager.start().catch((e: unknown) => e);
    await Promise.resolve();
    const stopped = manager.stop();
    c[1]!.startGate.resolve();
    await stopped;
    expect(await started).toBeInstanceOf(ComponentStartInterruptedError);
    expect(((await started) as ComponentStartInterruptedError).notStarted).toEqual(['b']);
    expect(log).toEqual(['start a', 'start b', 'started b (signal aborted)', 'stop a']);
  });

  it('a stop that comes as the last start finishes still fails start()', async () => {
    const { manager, log, c } = setup('a');
    c[0]!.startGate = Promise.withResolvers<void>();
    const started = manager.start().catch((e: unknown) => e);
    const stopped = manager.stop();
    c[0]!.startGate.resolve();
    await stopped;
    expect(((await started) as ComponentStartInterruptedError).notStarted).toEqual([]);
    expect(log).toEqual(['start a', 'started a (signal aborted)', 'stop a']);
  });

  it('refuses a second start, a late add and duplicate names', async () => {
    const { manager, log } = setup('a');
    expect(() => manager.add(new FakeComponent('a', log))).toThrow(DuplicateComponentError);
    await manager.start();
    await expect(manager.start()).rejects.toThrow('cannot start: the component manager is running');
    expect(() => manager.add(new FakeComponent('z', log))).toThrow(ComponentManagerStateError);
    await manager.stop();
    expect(log).toEqual(['start a', 'stop a']);
  });

  it("returns each component's health in order, and a throwing health check as not ok", () => {
    const { manager, c } = setup('link', 'queue', 'ssh');
    c[0]!.healthValue = { ok: false, message: 'hub unreachable for 40 s' };
    c[2]!.healthValue = () => {
      throw new Error('boom');
    };
    expect(manager.health()).toEqual([
      { name: 'link', ok: false, message: 'hub unreachable for 40 s' },
      { name: 'queue', ok: true },
      { name: 'ssh', ok: false, message: 'health check failed: boom' },
    ]);
  });
});
