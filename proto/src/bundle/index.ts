export * from './bundle-format.js';
export * from './status-export.js';
export * from './sealed-cluster-keys.js';
