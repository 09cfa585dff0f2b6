// Parses the Kubernetes-shaped resource paths of the admin API.
import { API_GROUP, API_VERSION, findKind, type KindInfo } from '@outpost/proto';
import { BadRequestError, NotFoundError } from '../errors.js';

export const API_PREFIX = `/apis/${API_GROUP}/${API_VERSION}`;

export interface ResourcePath {
  kind: KindInfo;
  /** The project, for namespaced kinds; undefined for cluster-scoped kinds and cross-project lists. */
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`the path segment "${segment}" is not percent-encoded correctly (a % must start %XX with two hex digits, of UTF-8); encode names with encodeURIComponent`);
  }
}

/** `rest` is the path after API_PREFIX, e.g. "/namespaces/demo/clusters/pos/status". */
export function parseResourcePath(rest: string): ResourcePath {
  const parts = rest.split('/').filter(Boolean).map(decodeSegment);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const [plural, name, sub, ...extra] = parts;
  const kind = plural !== undefined ? findKind(plural) : undefined;
  if (!kind || plural !== kind.plural || extra.length > 0 || (sub !== undefined && sub !== 'status')) {
    throw new NotFoundError({ kind: 'path', name: `${API_PREFIX}${rest}` });
  }
  if (namespace !== undefined && !kind.namespaced) {
    throw new NotFoundError({ kind: 'path', name: `${API_PREFIX}${rest} (${kind.kind} is not in a project; drop /namespaces/${namespace})` });
  }
  return { kind, namespace, name, subresource: sub as 'status' | undefined };
}
