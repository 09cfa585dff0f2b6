// Air-gapped bundles over the admin API, for admins only: POST .../sites/NAME/bundle answers with the
// bundle's tar stream (`outpost bundle create` writes it to files), POST .../statusbundles records an
// agent's status bundle (`outpost bundle import-status`).
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import type { Principal } from '../auth/principal.js';
import type { BundleWriter } from '../bundles/bundle-writer.js';
import { importStatusBundle } from '../bundles/status-import.js';
import { BadRequestError, HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import { parseJson, requireJsonMedia, requireObject } from './json-body.js';
import { API_PREFIX } from './resource-path.js';

type Env = { Variables: { principal: Principal } };

export const BUNDLE_PATH = `${API_PREFIX}/sites/:site/bundle`;
export const STATUS_BUNDLES_PATH = `${API_PREFIX}/statusbundles`;

function adminOnly(p: Principal, what: string): void {
  if (p.role !== 'admin') throw new HubError(403, 'Forbidden', `token ${p.name} (role ${p.role}) may not ${what}: bundles carry a whole site's view and can enrol agents, so only admin tokens may`);
}

const wholeNumber = (v: unknown, name: string): number => {
  if (v === undefined) return 0;
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new BadRequestError(`${name} must be a whole number`);
  return v as number;
};

/**
 * The hub URL an enrolled agent dials once it has a network: the one the CLI reached the hub at (behind
 * gateway processes this process sees only their forwarded requests), else this request's, as https.
 */
function enrolledHub(given: unknown, requestUrl: string): string {
  if (typeof given === 'string') {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw new BadRequestError(`hub ${given} is not a URL; give the https://HOST:PORT the site's agent will reach this hub at`);
    }
    if (url.protocol !== 'https:') throw new BadRequestError(`hub must be https://, not ${url.protocol}`);
    return url.origin;
  }
  const url = new URL(requestUrl);
  url.protocol = 'https:';
  return url.origin;
}

/** Mount after the API's authentication and before its catch-all resource route. */
export function bundleRoutes(store: Store, writer: BundleWriter): Hono<Env> {
  const app = new Hono<Env>();
  app.post(BUNDLE_PATH, async (c) => {
    adminOnly(c.get('principal'), 'make bundles');
    requireJsonMedia(c.req.header('content-type'));
    const text = await c.req.text();
    const body = text.trim() ? parseJson(text) : {};
    requireObject(body, 'a bundle request');
    const carried = body.carried;
    if (carried !== undefined && (!Array.isArray(carried) || carried.some((d) => typeof d !== 'string'))) throw new BadRequestError('carried must be a list of sha256:<hex> digests');
    const { manifest, stream, clusterKeys } = writer.create(
      { site: c.req.param('site'), since: wholeNumber(body.since, 'since'), carried: carried as string[] | undefined, maxPartBytes: wholeNumber(body.maxPartBytes, 'maxPartBytes'), enroll: body.enroll === true },
      enrolledHub(body.hub, c.req.url),
    );
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      status: 200,
      headers: {
        'content-type': 'application/x-tar',
        'content-length': String(manifest.totalBytes),
        'x-outpost-bundle': JSON.stringify({ id: manifest.id, agentId: manifest.agentId, baseRevision: manifest.baseRevision, targetRevision: manifest.targetRevision, blobs: manifest.blobs.length, parts: manifest.parts.length, clusterKeys }),
      },
    });
  });
  app.post(STATUS_BUNDLES_PATH, async (c) => {
    adminOnly(c.get('principal'), 'import status bundles');
    return c.json(importStatusBundle(store, await c.req.text()), 201);
  });
  return app;
}
