// Named errors of the seed agent, each saying what the operator can do about it.

/** The seed agent cannot be configured to reach its seed (or a site agent was given a seed's flag). */
export class SeedConfigError extends Error {
  override readonly name = 'SeedConfigError';
}

/** No HTTP answer from the seed's apiserver (refused, timed out, TLS failed): the SeedReachable condition says so. */
export class SeedUnreachableError extends Error {
  override readonly name = 'SeedUnreachableError';
  constructor(readonly server: string, cause: unknown) {
    super(`cannot reach the seed's Kubernetes API at ${server}: ${causeText(cause)}; check that it runs and that the agent's kubeconfig points at it`, { cause });
  }
}

/** The namespace a Cluster's control plane belongs in is labelled for another Cluster: nothing is taken over. */
export class NamespaceTakenError extends Error {
  override readonly name = 'NamespaceTakenError';
  constructor(readonly namespace: string, readonly labels: Readonly<Record<string, string>>) {
    super(`namespace ${namespace} on the seed belongs to ${JSON.stringify(labels)}, not to this cluster; rename one of the clusters or remove the namespace`);
  }
}

function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // fetch wraps the socket's error (ECONNREFUSED, ...) as its cause: that is the useful part.
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : '';
  return `${cause.message}${inner}`;
}

/** The Release of a Cluster's version is not in the view, or names no image for a component. */
export class ReleaseProblemError extends Error {
  override readonly name = 'ReleaseProblemError';
}

/** The hub has not delivered this Cluster's CAs to the agent yet: nothing can be signed until it has. */
export class ClusterKeysMissingError extends Error {
  override readonly name = 'ClusterKeysMissingError';
  constructor(readonly cluster: string) {
    super(`the hub has not delivered the CAs of cluster ${cluster} to this agent yet; the agent retries, and signs the control plane's certificates once they arrive (check the agent's link to the hub if this stays)`);
  }
}

/** A component's pods cannot start because their image is not on the node and cannot be pulled. */
export class ImageMissingError extends Error {
  override readonly name = 'ImageMissingError';
  constructor(readonly component: string, readonly image: string, readonly node: string, readonly reason: string, readonly release: string) {
    super(`${component}'s image ${image} is not on node ${node || '(unscheduled)'} and cannot be pulled (${reason}): import it into the seed nodes' containerd (ctr -n k8s.io images import), or point Release ${release}'s spec.components.${component} at an image the seed can get`);
  }
}
