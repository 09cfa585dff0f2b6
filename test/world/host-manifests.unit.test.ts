import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { hostManifestsYaml } from './host-manifests.js';

describe('host manifests', () => {
  it('writes one Host per host, with HostSpec JSON names', () => {
    const fp = `SHA256:${'a'.repeat(43)}`;
    const text = hostManifestsYaml(
      [
        { name: 'host-0', address: '10.213.1.10', port: 22, user: 'root', hostKeyFingerprint: fp },
        { name: 'host-1', address: '10.213.1.11', port: 22, user: 'root', hostKeyFingerprint: fp },
      ],
      'store-0412',
    );
    const docs = YAML.parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toHaveLength(2);
    expect(docs[1]).toEqual({
      apiVersion: 'outpost.dev/v1alpha1',
      kind: 'Host',
      metadata: { name: 'host-1' },
      spec: { site: 'store-0412', address: '10.213.1.11', sshPort: 22, sshUser: 'root', hostKey: fp },
    });
  });
});
