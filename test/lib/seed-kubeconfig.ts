// A kubeconfig for a seed agent whose seed is not there: its server is a loopback port nothing listens on,
// so every call is refused at once (the SeedReachable=False path, and seed agents in tests with no seed).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';

/** Writes DIR/unreachable-seed.kubeconfig and returns its path and server. */
export async function unreachableSeedKubeconfig(dir: string): Promise<{ path: string; server: string }> {
  const server = `https://127.0.0.1:${await freePort()}`;
  const path = join(dir, 'unreachable-seed.kubeconfig');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: '${server}', insecure-skip-tls-verify: true}}]
users: [{name: agent, user: {token: not-used}}]
contexts: [{name: gone, context: {cluster: gone, user: agent}}]
current-context: gone
`,
  );
  return { path, server };
}
