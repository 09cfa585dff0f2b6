// The one lifecycle of hub and agent components. Re-exports only.
export { component, type Component, type ComponentHealth, type ComponentParts } from './component.js';
export { ComponentManager, type ComponentManagerState, type NamedHealth } from './component-manager.js';
export {
  ComponentManagerStateError, ComponentStartError, ComponentStartInterruptedError, ComponentStopError, DuplicateComponentError, LifecycleError, messageOf,
  type ComponentFailure,
} from './errors.js';
