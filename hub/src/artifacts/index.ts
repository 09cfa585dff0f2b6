// The hub's content store of artifacts.
export * from './blob-gc.js';
export * from './blob-store.js';
export * from './byte-range.js';
export * from './errors.js';
