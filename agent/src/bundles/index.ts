export { importBundle, type ImportOptions, type ImportResult } from './bundle-import.js';
export { BundleRefused, type BundleRefusalCode } from './errors.js';
export { exportStatus } from './status-export.js';
