// The test world's Releases (test/world/releases.ts, what `npm run world -- up` writes to release.yaml)
// are admitted by a real hub through `outpost apply -f`, and read back as they were written: one per
// control-plane version the world builds, each pinning every image by tag. (That the images are on the
// seed's node is shown by test/e2e/seed-cluster.test.ts.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kindInfo, type Release } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, run, TestHub } from '../lib/processes.js';
import { VERSIONS } from '../world/binaries.js';
import { worldReleases, worldReleasesYaml } from '../world/releases.js';

describe("the test world's Releases", () => {
  let hub: TestHub;
  let env: NodeJS.ProcessEnv;
  const outpost = (...args: string[]) => run(OUTPOST, args, { env });

  beforeAll(async () => {
    hub = await TestHub.start();
    env = await hub.loginCli();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('are one per built control-plane version, every component pinned to an outpost.local image by tag', () => {
    const releases = worldReleases();
    expect(releases.map((r) => r.spec?.version)).toEqual([VERSIONS.kubernetes.slice(1), VERSIONS.kubernetesPrevious.slice(1)]);
    expect(VERSIONS.kubernetesPrevious).not.toBe(VERSIONS.kubernetes);
    for (const r of releases) {
      const components = r.spec?.components ?? {};
      for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'pause']) expect(components[c], `${r.metadata.name} ${c}`).toMatch(/^outpost\.local\/[a-z-]+:[\w.-]+$/);
      expect(components['kube-apiserver']).toBe(`outpost.local/kube-apiserver:v${r.spec?.version}`);
    }
  });

  it('apply to a real hub with `outpost apply -f` and come back as written', async () => {
    const file = join(hub.dir, 'release.yaml');
    writeFileSync(file, worldReleasesYaml());
    const apply = await outpost('apply', '-f', file);
    expect(apply.code, apply.stderr).toBe(0);
    for (const want of worldReleases()) {
      const got = await hub.api().get<Release>(kindInfo('Release'), want.metadata.name ?? '');
      expect(got.spec).toMatchObject({ version: want.spec?.version, components: want.spec?.components });
    }
    // applied again, nothing changes and nothing is refused
    const again = await outpost('apply', '-f', file);
    expect(again.code, again.stderr).toBe(0);
    const list = await outpost('get', 'releases', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(list.stdout.trim().split(' ').sort()).toEqual(worldReleases().map((r) => r.metadata.name).sort());
  });
});
