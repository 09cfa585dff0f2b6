import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { localPathManifest } from './local-path.js';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: Array<{ image: string; imagePullPolicy: string }> } } };
  provisioner?: string;
}

describe('the seed storage manifest', () => {
  const docs = parseAllDocuments(localPathManifest({ seedDir: '/tmp/seed-x', provisionerImage: 'outpost.local/local-path-provisioner:v0', helperImage: 'outpost.local/busybox:test' })).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);

  it('makes local-path the default StorageClass, served by the provisioner', () => {
    const [sc] = byKind('StorageClass');
    expect(sc?.metadata.annotations).toEqual({ 'storageclass.kubernetes.io/is-default-class': 'true' });
    expect(sc?.provisioner).toBe('rancher.io/local-path');
    expect(byKind('Namespace').map((d) => d.metadata.name)).toEqual(['local-path-storage']);
    expect(byKind('ClusterRoleBinding')).toHaveLength(1);
  });

  it('keeps every volume inside the seed directory, and never pulls an image', () => {
    const [cm] = byKind('ConfigMap');
    expect(JSON.parse(cm?.data?.['config.json'] ?? '')).toEqual({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/tmp/seed-x/volumes'] }] });
    const helper = parse(cm?.data?.['helperPod.yaml'] ?? '') as NonNullable<Doc['spec']>['template'];
    expect(helper.spec.containers[0]).toMatchObject({ image: 'outpost.local/busybox:test', imagePullPolicy: 'Never' });
    const [deployment] = byKind('Deployment');
    expect(deployment?.spec?.template.spec.containers[0]).toMatchObject({ image: 'outpost.local/local-path-provisioner:v0', imagePullPolicy: 'Never' });
  });
});
