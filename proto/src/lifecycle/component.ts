// One lifecycle for every runtime part of hub and agent (store, API server, gateway, hub link, work queues,
// appliers, executors), as k0s builds its components: a manager starts them in order and stops them in reverse, gathering failures.

export interface ComponentHealth {
  ok: boolean;
  /** What an operator should read next to a failing component: what is wrong, and if known, why. */
  message?: string;
}

export interface Component {
  /** Unique within a manager; errors and health name the component by it. */
  readonly name: string;
  /**
   * Brings the component up. `signal` is shared by every component of the manager and fires when the
   * manager stops (even while this start is still running), so long-lived work can hang off it. A start
   * that fails must release what it took itself: the manager does not call stop() on it.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Releases what start took. Called at most once, and only after start resolved. */
  stop(): Promise<void>;
  /** Cheap and synchronous: status reports call it often. */
  health(): ComponentHealth;
}

/** The parts of a component made from plain functions; a missing start or stop does nothing. */
export interface ComponentParts {
  name: string;
  start?: (signal: AbortSignal) => void | Promise<void>;
  stop?: () => void | Promise<void>;
  /** Default: healthy once started, which is all a part with no state of its own can say. */
  health?: () => ComponentHealth;
}

/** A component from functions, for parts that are not classes of their own (a timer, a server, a file). */
export function component(parts: ComponentParts): Component {
  return {
    name: parts.name,
    start: async (signal) => parts.start?.(signal),
    stop: async () => parts.stop?.(),
    health: parts.health ?? (() => ({ ok: true })),
  };
}
