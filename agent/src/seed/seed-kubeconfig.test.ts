import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeedConfigError } from './errors.js';
import { seedKubeConfig } from './seed-kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'outpost-seed-kc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('seedKubeConfig', () => {
  it("loads a seed agent's --kubeconfig, and gives a site agent none", () => {
    const file = join(dir, 'kc');
    writeFileSync(file, "apiVersion: v1\nkind: Config\nclusters: [{name: s, cluster: {server: 'https://10.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: s, context: {cluster: s, user: u}}]\ncurrent-context: s\n");
    expect(seedKubeConfig({ view: 'seed/fra-1', kubeconfig: file, env: {} })?.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(seedKubeConfig({ view: 'site/s1', env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } })).toBeUndefined();
  });

  it('refuses what cannot work, saying what to do', () => {
    const refused = (input: Parameters<typeof seedKubeConfig>[0]) => {
      try {
        seedKubeConfig(input);
      } catch (err) {
        expect(err).toBeInstanceOf(SeedConfigError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused({ view: 'site/s1', kubeconfig: '/x', env: {} })).toContain('Drop --kubeconfig');
    expect(refused({ view: 'seed/fra-1', env: {} })).toContain('pass --kubeconfig FILE, or run it as a pod in the seed');
    const noContext = join(dir, 'empty');
    writeFileSync(noContext, 'apiVersion: v1\nkind: Config\n');
    expect(refused({ view: 'seed/fra-1', kubeconfig: noContext, env: {} })).toContain('names no current cluster');
  });
});
