export * from './bundle-format.js';
export * from './status-export.js';
