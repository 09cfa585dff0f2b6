// What the fuzzer throws at, and what counts as a crash there. Shared by the bench (npm run bench:fuzz,
// up to millions of runs) and the CI test (test/integration/fuzz.test.ts, a few thousand).
//   frame decoder: decodeEnvelope may return or throw FrameError, nothing else.
//   manifests: parseManifests may return or throw ManifestError, nothing else.
//   admin API: every request gets an answer below 500, within the time limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi, hashSecret, ManifestError, parseManifests, Presence, randomToken, Store } from '@outpost/hub';
import { decodeEnvelope, encodeEnvelope, FrameError, type Envelope } from '@outpost/proto';
import fc from 'fast-check';
import { fuzzRequest, type FuzzRequest } from './requests.js';

/** A finding: an input that broke the rule of its target. */
export class Crash extends Error {
  override readonly name = 'Crash';
  constructor(
    message: string,
    /** What findings are grouped by: the same bug met with other inputs. */
    readonly kind: string = message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function thrown(fn: string, err: unknown): Crash {
  const e = err as Error | undefined;
  return new Crash(`${fn} threw ${e?.name}: ${e?.message}`, `${fn} threw ${e?.name}: ${String(e?.message).slice(0, 30)}`, { cause: err });
}

export interface Target<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Resolves when the input was handled as it must be; rejects with Crash (or anything) when not. */
  check(input: T): Promise<void>;
  close(): Promise<void>;
  /** For the API targets: how many answers of each status, so a run shows it got past routing and auth. */
  statuses?: Map<number, number>;
}

export function count(statuses: Map<number, number>, status: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
}

/**
 * How long an answer may take before it counts as a hang: wall-clock, so generous (the machine is shared
 * and a CI run may be busy); a handler that never answers still shows.
 */
export const HANG_MS = 10_000;
/** The CPU time one synchronous parse may take: CPU, not wall-clock, so a busy machine is no hang. */
const CPU_LIMIT_MS = 2000;

async function within<T>(what: string, p: Promise<T>, ms = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Crash(`hang: ${what} took over ${ms} ms`, 'hang')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function timed(what: string, fn: () => void): void {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  const ms = (used.user + used.system) / 1000;
  if (ms > CPU_LIMIT_MS) throw new Crash(`hang: ${what} took ${Math.round(ms)} ms of CPU`, 'hang');
}

/** Bytes from a valid frame with some flipped, cut, or inserted: deeper into the decoder than noise. */
function mutated(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), { maxLength: 6 }))
    .map(([base, edits]) => {
      let b = [...base];
      for (const [at, byte, op] of edits) {
        const i = b.length ? at % b.length : 0;
        if (op === 'set' && b.length) b[i] = byte;
        else if (op === 'cut') b = b.slice(0, i);
        else b.splice(i, 0, byte);
      }
      return Uint8Array.from(b);
    });
}

const ENVELOPES: Envelope[] = [
  { hello: { agentId: 'site-store-0412', version: '0.1.0', capabilities: ['ssh'], lastRevision: 12, protocolMajor: 2, protocolMinor: 0 } },
  { welcome: { hubRevision: 40, heartbeatIntervalMs: 15000, maxFrameBytes: 1 << 20, protocolMajor: 2, protocolMinor: 0, view: 'site/store-0412' } },
  { sync: { since: 7 } },
  { ack: { revision: 9, statusSeq: 3 } },
  { poke: { revision: 11 } },
  { changes: { snapshot: true, revision: 5, more: false, since: 0, changes: [] } },
  { secretsRequest: { clusters: [{ kind: 'Cluster', namespace: 'demo', name: 'pos', uid: '3f1c' }] } },
  { secrets: { clusters: [{ ref: { kind: 'Cluster', namespace: 'demo', name: 'pos', uid: '3f1c' }, missing: { reason: 'NOT_IN_VIEW', message: 'no' } }] } },
];

export function frameTarget(): Target<{ bytes: Uint8Array; maxBytes: number | undefined }> {
  const valid = ENVELOPES.map((e) => encodeEnvelope(e));
  return {
    name: 'frame-decoder',
    arbitrary: fc.record({ bytes: fc.oneof(fc.uint8Array({ maxLength: 512 }), mutated(valid)), maxBytes: fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }) }),
    async check({ bytes, maxBytes }) {
      timed('decodeEnvelope', () => {
        try {
          decodeEnvelope(bytes, maxBytes);
        } catch (err) {
          if (!(err instanceof FrameError)) throw thrown('decodeEnvelope', err);
        }
      });
    },
    close: async () => undefined,
  };
}

const MANIFEST = `apiVersion: outpost.dev/v1alpha1
kind: Cluster
metadata:
  name: pos
  namespace: demo
  labels: {tier: gold}
spec:
  version: 1.33.0
  datacenter: hamburg-stores
  controlPlane: {mode: kubeadm, replicas: 1}
---
kind: SiteList
items:
- kind: Site
  metadata: {name: s1}
`;

// YAML's structure characters, with anchors, aliases, tags and directives: the parser's harder paths.
const YAML_PIECES = ['-', '- ', ':', ': ', ' ', '  ', '\n', '---\n', '...\n', '{', '}', '[', ']', ',', '&a ', '*a', '<<: *a', '!!str ', '!!map ', '!tag ', '"', "'", '|\n', '>-\n', '# c', '? ', '%YAML 1.2\n', '%TAG ! tag:x,2000:\n', 'kind: Site', 'kind: List', 'items:', 'metadata:', 'name: x', 'null', '~', '0x1F', '1e400', '\t', '\\u0000', '\u2028'];

export function manifestTarget(): Target<string> {
  return {
    name: 'manifests',
    arbitrary: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 40 }).map((p) => p.join('')),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.tuple(fc.nat(MANIFEST.length), fc.nat(MANIFEST.length), fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 4 })).map(([a, b, ins]) => MANIFEST.slice(0, Math.min(a, b)) + ins.join('') + MANIFEST.slice(Math.max(a, b))),
    ),
    async check(text) {
      timed('parseManifests', () => {
        try {
          parseManifests(text, 'fuzz.yaml');
        } catch (err) {
          if (!(err instanceof ManifestError)) throw thrown('parseManifests', err);
        }
      });
    },
    close: async () => undefined,
  };
}

/** The answer to one request, read whole (a watch's stream is cancelled once it answers). */
export async function answer(res: Response, req: FuzzRequest): Promise<{ status: number; body: string }> {
  if (res.status === 200 && req.query.some(([k, v]) => k === 'watch' && (v === 'true' || v === '1'))) {
    await res.body?.cancel();
    return { status: res.status, body: '' };
  }
  return { status: res.status, body: await res.text() };
}

export function requestCrash(req: FuzzRequest, status: number, body: string): Crash | undefined {
  if (status < 500) return undefined;
  let message = body.slice(0, 300);
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message);
  } catch {
    // not a Status: keep the text
  }
  return new Crash(`${req.method} ${req.url} answered ${status}: ${message}`, `answered ${status}: ${message.slice(0, 60)}`);
}

/** The admin API in process, on a real Store in a temp directory, seeded so requests find objects. */
export function apiTarget(): Target<FuzzRequest> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-fuzz-'));
  const store = new Store(join(dir, 'hub.db'));
  const presence = new Presence(store);
  const app = createApi({ store, presence, caCertPem: 'fuzz', version: '0.0.0-fuzz' });
  const secret = randomToken(32);
  store.create({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Token', metadata: { name: 'fuzz01' }, spec: { type: 'api', role: 'admin' } } as never, { actor: 'fuzz' });
  store.putCredential('token/fuzz01', 'api', hashSecret(secret));
  const token = `fuzz01.${secret}`;
  const gv = 'outpost.dev/v1alpha1';
  for (const o of [
    { kind: 'Project', metadata: { name: 'demo' }, spec: {} },
    { kind: 'Site', metadata: { name: 'store-0412', labels: { tier: 'gold' } }, spec: { location: 'Hamburg' } },
    { kind: 'Datacenter', metadata: { name: 'hamburg-stores' }, spec: { provider: 'edge', site: 'store-0412' } },
    { kind: 'Cluster', metadata: { name: 'pos', namespace: 'demo' }, spec: { version: '1.33.0', datacenter: 'hamburg-stores', controlPlane: { mode: 'kubeadm', replicas: 1 } } },
  ]) store.create({ apiVersion: gv, ...o } as never, { actor: 'fuzz' });
  const statuses = new Map<number, number>();
  return {
    name: 'admin-api',
    statuses,
    arbitrary: fuzzRequest(),
    async check(req) {
      const headers: Record<string, string> = {};
      if (req.auth === 'admin') headers.authorization = `Bearer ${token}`;
      else if (req.auth) headers.authorization = req.auth;
      if (req.contentType) headers['content-type'] = req.contentType;
      let request: Request;
      try {
        request = new Request(`http://localhost${req.url}`, { method: req.method, headers, body: req.body });
      } catch {
        return; // not a request any client could send (fetch refuses it too)
      }
      const res = await within(`${req.method} ${req.path}`, Promise.resolve(app.request(request)));
      const { status, body } = await within(`reading ${req.method} ${req.path}`, answer(res, req));
      count(statuses, status);
      const crash = requestCrash(req, status, body);
      if (crash) throw crash;
    },
    async close() {
      presence.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
