// Named errors of the site generators (kubeadm config, host files, install plan), each saying what the
// operator can do about it. The flow reports them into the Cluster's lastErrors as they are.

/** The Release of a Cluster's version cannot make a kubeadm cluster: an image is missing or is named in a way kubeadm cannot run. */
export class SiteReleaseError extends Error {
  override readonly name = 'SiteReleaseError';
  constructor(
    readonly release: string,
    /** The spec.components entries at fault ("kube-proxy", "coredns", ...). */
    readonly components: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** The Release has no artifact for a host's platform that the host needs (a binary, a CNI plugin, an image archive). */
export class ArtifactsMissingError extends Error {
  override readonly name = 'ArtifactsMissingError';
  constructor(
    readonly release: string,
    readonly platform: string,
    /** "binary kubeadm", "image outpost.local/pause:test", ... */
    readonly missing: readonly string[],
  ) {
    super(`Release ${release} has no artifact for ${platform} of ${missing.join(', ')}: import a release directory built for ${platform} that holds them (outpost release import DIR), or keep hosts of this platform out of the cluster`);
  }
}

/** An input a generator was given cannot be written into a host's configuration (a bad address, CIDR, token or name). */
export class SiteInputError extends Error {
  override readonly name = 'SiteInputError';
  constructor(
    /** The input at fault, as the caller names it ("podSubnet", "hosts[2].name"). */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
