import { describe, expect, it } from 'vitest';
import { VERSIONS } from './binaries.js';
import { missingImages, worldReleases } from './releases.js';

describe('worldReleases', () => {
  const all = [...new Set(worldReleases().flatMap((r) => Object.values(r.spec?.components ?? {})))];

  it('names each version its own control plane and kube-proxy', () => {
    const [current, previous] = worldReleases();
    expect(current?.spec?.components?.['kube-proxy']).toBe(`outpost.local/kube-proxy:${VERSIONS.kubernetes}`);
    expect(previous?.spec?.components?.['kube-proxy']).toBe(`outpost.local/kube-proxy:${VERSIONS.kubernetesPrevious}`);
    expect(previous?.spec?.components?.['kube-scheduler']).toBe(`outpost.local/kube-scheduler:${VERSIONS.kubernetesPrevious}`);
  });

  it('names the one CoreDNS image, at the version test/tools/coredns pins, in both Releases', () => {
    for (const r of worldReleases()) expect(r.spec?.components?.coredns).toBe(`outpost.local/coredns:${VERSIONS.coredns}`);
    expect(VERSIONS.coredns).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('says which named images a node lacks, from `ctr images ls -q`', () => {
    expect(missingImages(`${all.join('\n')}\noutpost.local/busybox:test\n`)).toEqual([]);
    const lacking = `outpost.local/kube-apiserver:${VERSIONS.kubernetesPrevious}`;
    expect(missingImages(all.filter((r) => r !== lacking).join('\n'))).toEqual([lacking]);
    expect(missingImages('')).toEqual(all);
  });
});
