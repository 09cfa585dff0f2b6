export * from './schema.js';
export * from './kinds.js';
export * from './printer-columns.js';
export * from './errors.js';
export * from './common/index.js';
export * from './resource-json.js';
export { lookupType, root as schemaRoot } from './reflection.js';
export { isFreeFormJson } from './validate-shape.js';
export * from './wire/protocol.js';
export * from './wire/codec.js';
export * from './wire/reportable-kinds.js';
export * from './wire/reported-status.js';
export * from './wire/cluster-secrets.js';
export * from './common/conditions.js';
export * from './common/timestamps.js';
export * from './lifecycle/index.js';
export * from './bundle/index.js';
export * from './wire/loop-stall.js';
// X.509 (CAs, leaf certificates) is its own entry, '@outpost/proto/x509': it loads @peculiar/x509 and
// reflect-metadata, which every CLI command importing the schema would otherwise pay for.
