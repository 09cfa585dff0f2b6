// The admin API in process for unit tests: a real Store on a temp SQLite file, a manual clock and an
// admin token, torn down by close(). Test support only: excluded from the build (hub/tsconfig.json).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from '@outpost/proto';
import { hashSecret, randomToken } from '../auth/secrets.js';
import { ManualClock } from '../clock.js';
import { Presence } from '../gateway/presence.js';
import { Store } from '../store/store.js';
import { createApi, type ApiOptions } from './app.js';

export const GV = 'outpost.dev/v1alpha1';
export const API = `/apis/${GV}`;

export class ApiFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'outpost-api-'));
  /** Stands still from the start of each test; a test moves it instead of sleeping. */
  readonly clock = new ManualClock(new Date());
  readonly store = new Store(join(this.dir, 'hub.db'), { clock: this.clock });
  readonly presence = new Presence(this.store, { clock: this.clock });
  app!: ReturnType<typeof createApi>;
  readonly admin: string;

  constructor(opts: Partial<ApiOptions> = {}) {
    this.admin = this.apiToken('admin1', { type: 'api', role: 'admin' });
    this.rebuild(opts);
  }

  /** A new app on the same store, with other options. */
  rebuild(opts: Partial<ApiOptions> = {}): void {
    this.app = createApi({ store: this.store, presence: this.presence, clock: this.clock, caCertPem: 'x', version: '0', ...opts });
  }

  /** An API token the way `outpost hub init` makes one: a Token object plus the hash of its secret. */
  apiToken(id: string, spec: Token['spec']): string {
    const secret = randomToken(32);
    this.store.create({ apiVersion: GV, kind: 'Token', metadata: { name: id }, spec } as Token, { actor: 'test' });
    this.store.putCredential(`token/${id}`, 'api', hashSecret(secret));
    return `${id}.${secret}`;
  }

  close(): void {
    this.presence.stop();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
