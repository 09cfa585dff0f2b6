export * from './schema.js';
export * from './kinds.js';
export * from './errors.js';
export * from './common/index.js';
export * from './resource-json.js';
export { lookupType, root as schemaRoot } from './reflection.js';
export * from './wire/protocol.js';
export * from './wire/codec.js';
export * from './lifecycle/index.js';
