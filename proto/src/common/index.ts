// What hub and agent both need beyond the schema: the CA pin, object keys, agent views and their
// finalizers, the HTTP error shape.
export * from './agent-views.js';
export * from './ca-cert-hash.js';
export * from './join-token.js';
export * from './object-key.js';
export * from './status-body.js';
export * from './versions.js';
export * from './cluster-keys.js';
export * from './artifacts.js';
export * from './byte-size.js';
