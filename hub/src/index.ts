export { startHub, type RunningHub } from './hub.js';
export { HubOptionsError, type HubOptions } from './hub-options.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { initDataDir, dataPaths, ensureTicketKeys, loadServingMaterial, serverTlsOptions } from './data-dir.js';
export { Store } from './store/store.js';
// For the release-flip bench: the controller the primary runs, on a store of the bench's making.
export { ReleaseConditionController } from './controllers/release-condition.js';
export { createApi } from './api/app.js';
export { ApiClient, ApiError, resourcePath } from './client/api-client.js';
export { hashSecret, randomToken } from './auth/secrets.js';
// For the fuzzer (test/bench/fuzz): the CLI's manifest reader and the presence feed an in-process API needs.
export { ManifestError, parseManifests } from './cli/manifests.js';
export { Presence } from './gateway/presence.js';
export { RELEASE_COMPONENTS } from './api/release-components.js';
export { SESSION_RECORD_ENV, type SessionRecordFile } from './gateway/session-record.js';
