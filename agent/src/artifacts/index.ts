// The agent's artifact cache by digest (DESIGN.md, "Artifacts").
export * from './artifact-cache.js';
export * from './blob-source.js';
export * from './errors.js';
export * from './eviction.js';
export * from './in-use.js';
