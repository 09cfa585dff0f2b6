// A Cluster's kubeconfig subresource (POST .../namespaces/P/clusters/NAME/kubeconfig, body
// {"expirationSeconds": N}), as Gardener's shoots/adminkubeconfig: an admin kubeconfig signed for this
// request. And the step before a Cluster create: its CAs are made first (see ClusterPki.prepare).
import { Hono } from 'hono';
import type { Principal } from '../auth/principal.js';
import { authorize } from '../auth/principal.js';
import { HubError } from '../errors.js';
import { kubeconfigSeconds, type ClusterPki } from '../pki/cluster-pki.js';
import { parseJson, requireJsonMedia, requireObject } from './json-body.js';
import { API_PREFIX, type ResourcePath } from './resource-path.js';

type Env = { Variables: { principal: Principal } };

export const KUBECONFIG_SUBRESOURCE = 'kubeconfig';

/** The route; mount it after the API's authentication and before its catch-all resource route. */
export function clusterKubeconfigRoutes(pki: ClusterPki): Hono<Env> {
  const app = new Hono<Env>();
  const path = `${API_PREFIX}/namespaces/:namespace/clusters/:name/${KUBECONFIG_SUBRESOURCE}`;
  app.post(path, async (c) => {
    // JSON only, as every write: a cross-origin form cannot ask for a cluster-admin credential.
    requireJsonMedia(c.req.header('content-type'));
    const text = await c.req.text();
    const body = text.trim() ? parseJson(text) : {};
    requireObject(body, 'a kubeconfig request');
    const seconds = kubeconfigSeconds(body.expirationSeconds);
    return c.json(await pki.adminKubeconfig(c.get('principal'), c.req.param('namespace'), c.req.param('name'), seconds), 201);
  });
  app.all(path, (c) => {
    throw new HubError(405, 'MethodNotAllowed', `${c.req.method} is not allowed on a cluster's kubeconfig; POST {"expirationSeconds": N} (outpost kubeconfig CLUSTER -n PROJECT)`);
  });
  return app;
}

type Around = <T>(write: () => T) => T;
const plain: Around = (write) => write();

/**
 * What a write that may create a Cluster runs within: its CAs made first (key generation is async, the
 * store's transaction is not). Authorization is checked before the keys are made, so a token that may
 * not create Clusters costs the hub no key generation; the write checks it again.
 */
export async function aroundClusterCreate(pki: ClusterPki | undefined, p: Principal, path: ResourcePath, exists: boolean): Promise<Around> {
  if (!pki || path.kind.kind !== 'Cluster' || exists) return plain;
  authorize(p, 'create', path.kind, path.namespace);
  return pki.prepare();
}
