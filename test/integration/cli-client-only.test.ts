// The `outpost` client commands never load the server: a laptop's CLI needs neither the store, nor the
// gateway, nor better-sqlite3. Each command runs against a real hub with a preload that records every
// module the process loads (test/lib/trace-loads.mjs); `hub init` is traced too, to show the tracer sees
// the server when it is loaded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, run, TestHub, type RunResult } from '../lib/processes.js';

const TRACER = fileURLToPath(new URL('../lib/trace-loads.mjs', import.meta.url));

/** What of the server a module list holds: hub modules outside cli/ and client/ (bar three leaves), and the server's packages. */
function serverModules(urls: readonly string[]): string[] {
  const hubDist = /\/hub\/dist\/(.+)$/;
  const clientSide = /^(cli\/|client\/|version\.js$|errors\.js$|duration\.js$|api\/resource-path\.js$)/;
  const serverPackages = /\/node_modules\/(better-sqlite3|ws|pino|hono|@hono\/node-server|@peculiar\/x509|reflect-metadata)\//;
  return urls.filter((u) => {
    const m = hubDist.exec(u);
    return (m && !clientSide.test(m[1]!)) || serverPackages.test(u);
  });
}

describe('outpost client commands do not load the server', () => {
  let hub: TestHub;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let n = 0;

  /** Runs `outpost ARGS` traced; returns its result and the URLs of the modules it loaded. */
  async function traced(...args: string[]): Promise<RunResult & { loaded: string[] }> {
    const trace = join(dir, `trace-${n++}`);
    const r = await run(OUTPOST, args, { env: { ...env, OUTPOST_TRACE_LOADS: trace, NODE_OPTIONS: `--import=${TRACER}` } });
    return { ...r, loaded: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
  }

  beforeAll(async () => {
    hub = await TestHub.start();
    dir = mkdtempSync(join(tmpdir(), 'outpost-cli-loads-'));
    env = { OUTPOST_CONFIG: join(dir, 'cli-config') };
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('login, apply, get, describe, diff, version, config, completion, token create/list, delete and --help load the client only', async () => {
    const manifest = join(dir, 'site.yaml');
    writeFileSync(manifest, 'apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: s1}\nspec: {location: here}\n');
    const commands = [
      ['login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt')],
      ['apply', '-f', manifest],
      ['get', 'sites'],
      ['get', 'site', 's1', '-o', 'yaml'],
      ['get', 'sites', '-o', 'wide', '-l', 'a=b'],
      ['get', 'sites', '-o', 'jsonpath={.items[*].metadata.name}'],
      ['describe', 'site', 's1'],
      ['diff', '-f', manifest],
      ['version'],
      ['config', 'get-contexts'],
      ['completion', 'bash'],
      ['kubeconfig', '--hub'],
      ['token', 'create', '--site', 's1'],
      ['token', 'list'],
      ['delete', '-f', manifest],
      ['--help'],
    ];
    for (const args of commands) {
      const r = await traced(...args);
      expect({ args, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ args, code: 0, stderr: '' });
      // The tracer saw the CLI itself, so an empty list below means something.
      expect(r.loaded.some((u) => u.endsWith('/hub/dist/cli/main.js'))).toBe(true);
      expect({ args, server: serverModules(r.loaded) }).toEqual({ args, server: [] });
    }
  });

  it('hub init loads the server when it runs, and the tracer sees it', async () => {
    const r = await traced('hub', 'init', '--data', join(dir, 'hub-data'));
    expect(r.code).toBe(0);
    const server = serverModules(r.loaded);
    expect(server.some((u) => u.endsWith('/hub/dist/store/store.js'))).toBe(true);
    expect(server.some((u) => u.includes('/node_modules/better-sqlite3/'))).toBe(true);
  });
});
