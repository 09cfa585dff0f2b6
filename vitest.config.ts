import { defineConfig } from 'vitest/config';

// Three tiers, all run by CI (STYLE.md rule 9): unit tests sit beside the code, integration tests start
// real hub and agent processes on loopback, e2e tests use the test world (Kubernetes built from source,
// sshd hosts in network namespaces).
export default defineConfig({
  // Unit tests read the proto package from source, so they need no build first.
  resolve: {
    alias: [
      { find: /^@outpost\/proto\/x509$/, replacement: new URL('./proto/src/x509.ts', import.meta.url).pathname },
      { find: /^@outpost\/proto$/, replacement: new URL('./proto/src/index.ts', import.meta.url).pathname },
    ],
  },
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['proto/src/**/*.test.ts', 'hub/src/**/*.test.ts', 'agent/src/**/*.test.ts', 'test/world/**/*.unit.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
