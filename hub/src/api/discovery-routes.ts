// The routes kubectl discovers the API by, none of which needs a token (as kube-apiserver's, they describe
// the API and hold no object): the group and its resources (/apis, legacy or aggregated by Accept) and the
// OpenAPI documents (/openapi/v3 and the group version's, /openapi/v2 in JSON or protobuf, /openapi.json).
import { Hono } from 'hono';
import { HubError } from '../errors.js';
import { AGGREGATED_DISCOVERY, aggregatedDiscovery, apiGroupList, apiResourceList, wantsAggregated } from './discovery.js';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_ASKED } from './openapi-v2-protobuf.js';
import { openApiDocuments } from './openapi.js';
import { API_PREFIX } from './resource-path.js';

const json = (body: string, headers: Record<string, string> = {}): Response => new Response(body, { headers: { 'content-type': 'application/json', ...headers } });

/** The discovery routes of a hub of `version`; errors go to the mounting app's handler. */
export function discoveryRoutes(version: string): Hono {
  const app = new Hono();
  const openapi = openApiDocuments(version);
  app.get('/openapi.json', () => json(openapi.v3.body));
  // kubectl finds the group version's document here, at a URL carrying its hash, which it may cache for good.
  app.get('/openapi/v3', () => json(openapi.v3.index));
  app.get(openapi.v3.path, (c) => json(openapi.v3.body, c.req.query('hash') === openapi.v3.hash ? { 'cache-control': 'public, immutable', etag: `"${openapi.v3.hash}"` } : { etag: `"${openapi.v3.hash}"` }));
  // client-go asks for v2 in protobuf (kubectl before 1.27 validates with it); other readers take JSON.
  app.get('/openapi/v2', (c) => {
    const accept = c.req.header('accept') ?? '';
    if (accept.includes(OPENAPI_V2_PROTOBUF_ASKED) || accept.includes(OPENAPI_V2_PROTOBUF)) return new Response(openapi.v2Protobuf, { headers: { 'content-type': OPENAPI_V2_PROTOBUF, vary: 'Accept' } });
    if (accept && !/application\/json|\*\/\*/.test(accept)) throw new HubError(406, 'NotAcceptable', `/openapi/v2 is served as application/json or ${OPENAPI_V2_PROTOBUF}, not ${accept}`);
    return json(openapi.v2, { vary: 'Accept' });
  });
  // Vary: the same path answers the aggregated document or the legacy one by Accept.
  app.get('/apis', (c) =>
    wantsAggregated(c.req.header('accept'))
      ? json(JSON.stringify(aggregatedDiscovery()), { 'content-type': AGGREGATED_DISCOVERY, vary: 'Accept' })
      : json(JSON.stringify(apiGroupList()), { vary: 'Accept' }),
  );
  app.get(API_PREFIX, (c) => c.json(apiResourceList()));
  return app;
}
