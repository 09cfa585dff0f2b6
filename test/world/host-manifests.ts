// Outpost Host manifests (proto HostSpec) for test hosts, as `npm run world -- hosts` writes them to
// DIR/hosts.yaml for `outpost apply -f`.
import YAML from 'yaml';

export interface HostEndpoint {
  name: string;
  address: string;
  port: number;
  user: string;
  hostKeyFingerprint: string;
}

/** One `kind: Host` document per host, in site `site`, with its SSH endpoint and pinned host key. */
export function hostManifestsYaml(hosts: readonly HostEndpoint[], site: string): string {
  return hosts
    .map((h) =>
      YAML.stringify({
        apiVersion: 'outpost.dev/v1alpha1',
        kind: 'Host',
        metadata: { name: h.name },
        spec: { site, address: h.address, sshPort: h.port, sshUser: h.user, hostKey: h.hostKeyFingerprint },
      }),
    )
    .join('---\n');
}
