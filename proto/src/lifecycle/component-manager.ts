// Starts components in the order they were added and stops them in reverse, so each may rely on the ones
// before it while it runs. stop() is idempotent and allowed in any state, as in k0s: a SIGTERM may come
// before start, during it, or twice.
import type { Component, ComponentHealth } from './component.js';
import {
  ComponentManagerStateError, ComponentStartError, ComponentStartInterruptedError, ComponentStopError, DuplicateComponentError, messageOf,
  type ComponentFailure,
} from './errors.js';

export type ComponentManagerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface NamedHealth extends ComponentHealth {
  readonly name: string;
}

export class ComponentManager {
  private readonly components: Component[] = [];
  /** Those whose start resolved, in start order; exactly the ones stop() must stop. */
  private readonly started: Component[] = [];
  private readonly lifetime = new AbortController();
  private current: ComponentManagerState = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  get state(): ComponentManagerState {
    return this.current;
  }

  /** Adds a component to start after those added before it. Only before start(). */
  add(component: Component): this {
    if (this.current !== 'new') throw new ComponentManagerStateError(`add component "${component.name}"`, this.current, 'add every component before start()');
    if (this.components.some((c) => c.name === component.name)) {
      throw new DuplicateComponentError(component.name);
    }
    this.components.push(component);
    return this;
  }

  /**
   * Starts every component in order. If one fails, those already started are stopped in reverse and this
   * rejects with a ComponentStartError naming it; if stop() comes first, with ComponentStartInterruptedError.
   */
  start(): Promise<void> {
    if (this.current !== 'new') {
      return Promise.reject(new ComponentManagerStateError('start', this.current, 'a manager starts once; create a new one to start again'));
    }
    this.current = 'starting';
    this.starting = this.startAll();
    return this.starting;
  }

  /**
   * Aborts the shared signal, waits for a start in progress to settle, then stops every started component in
   * reverse order, each awaited, all of them even when some fail. Rejects with one ComponentStopError that
   * lists every failure. Every call returns the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /** Each component's health, in start order. A health() that throws reads as not ok, not as a crash. */
  health(): NamedHealth[] {
    return this.components.map((c) => {
      try {
        return { name: c.name, ...c.health() };
      } catch (err) {
        return { name: c.name, ok: false, message: `health check failed: ${messageOf(err)}` };
      }
    });
  }

  private async startAll(): Promise<void> {
    for (const [i, c] of this.components.entries()) {
      if (this.lifetime.signal.aborted) throw new ComponentStartInterruptedError(this.components.slice(i).map((n) => n.name));
      try {
        await c.start(this.lifetime.signal);
      } catch (err) {
        // A start cut short by stop() is an interruption, not the component's fault; stop() does the cleanup.
        if (this.lifetime.signal.aborted) throw new ComponentStartInterruptedError(this.components.slice(i).map((n) => n.name));
        this.current = 'stopping';
        // What the started components hung off the signal ends with them.
        this.lifetime.abort();
        const rollbackFailures = await this.stopStarted();
        this.current = 'stopped';
        throw new ComponentStartError(c.name, err, rollbackFailures);
      }
      this.started.push(c);
    }
    // Everything started, but stop() came meanwhile: a caller must not go on as if the agent were up.
    if (this.lifetime.signal.aborted) throw new ComponentStartInterruptedError([]);
    this.current = 'running';
  }

  private async stopAll(): Promise<void> {
    this.current = 'stopping';
    this.lifetime.abort();
    // The start's own outcome is start()'s caller's to handle; here it only has to be over.
    await this.starting?.catch(() => undefined);
    const failures = await this.stopStarted();
    this.current = 'stopped';
    if (failures.length) throw new ComponentStopError(failures);
  }

  /** Stops and forgets the started components, last first; returns the ones that failed. */
  private async stopStarted(): Promise<ComponentFailure[]> {
    const failures: ComponentFailure[] = [];
    for (let c = this.started.pop(); c; c = this.started.pop()) {
      try {
        await c.stop();
      } catch (error) {
        failures.push({ component: c.name, error });
      }
    }
    return failures;
  }
}
