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
