// The outpost CLI's kubectl habits, through the real CLI against real hub processes: contexts for two
// hubs, get -w/-l/-A/-o wide|name|jsonpath, describe, diff -f, delete -f, version, completion, and
// token list/revoke.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '@outpost/hub';
import { findKind, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '@outpost/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, Proc, run, TestHub, waitFor } from '../lib/processes.js';

const PROTOCOL = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;
const MANIFEST = resolve(fileURLToPath(new URL('../../deploy/examples/store-0412.yaml', import.meta.url)));
const VERSION = (JSON.parse(readFileSync(resolve(fileURLToPath(new URL('../../hub/package.json', import.meta.url))), 'utf8')) as { version: string }).version;

const site = (name: string, location: string, labels: Record<string, string> = {}): string =>
  `apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: ${name}, labels: ${JSON.stringify(labels)}}\nspec: {location: ${JSON.stringify(location)}}\n`;

describe('outpost CLI, kubectl habits', () => {
  let a: TestHub;
  let b: TestHub;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const outpost = (...args: string[]) => run(OUTPOST, args, { env });
  const outpostIn = (input: string, ...args: string[]) => run(OUTPOST, args, { env, input });
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const login = (hub: TestHub, ...more: string[]) => outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'), ...more);
  const contextA = (): string => `127.0.0.1:${a.port}`;

  beforeAll(async () => {
    // b ends every watch after 1-2 s, as a hub does after 30-60 min, so get -w must resume on its own.
    [a, b] = await Promise.all([TestHub.start(), TestHub.start({ serveArgs: ['--min-request-timeout', '1s'] })]);
    dir = mkdtempSync(join(tmpdir(), 'outpost-cli-kubectl-'));
    env = { OUTPOST_CONFIG: join(dir, 'config') };
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps several hubs as contexts: login names them, --context picks one, use-context switches', async () => {
    expect(await login(a)).toEqual({ code: 0, stdout: `logged in to ${a.url} as context "${contextA()}" (now current); config written to ${env.OUTPOST_CONFIG}\n`, stderr: '' });
    expect((await login(b, '--name', 'b')).code).toBe(0);
    expect((await outpostIn(site('only-a', 'A'), '--context', contextA(), 'apply', '-f', '-')).stdout).toBe('site/only-a created\n');
    expect((await outpost('config', 'get-contexts')).stdout).toBe(
      `CURRENT   NAME${' '.repeat(contextA().length - 4)}   HUB\n          ${contextA()}   ${a.url}\n*         b${' '.repeat(contextA().length - 1)}   ${b.url}\n`,
    );
    expect((await outpost('config', 'current-context')).stdout).toBe('b\n');
    expect((await outpost('get', 'sites')).stdout).toBe('No resources found.\n');
    // --context goes before or after the command, as kubectl's does.
    expect((await outpost('get', 'sites', '-o', 'name', '--context', contextA())).stdout).toBe('site/only-a\n');
    expect((await outpost('--context', contextA(), 'get', 'sites', '-o', 'name')).stdout).toBe('site/only-a\n');
    expect((await outpost('config', 'use-context', contextA())).stdout).toBe(`Switched to context "${contextA()}".\n`);
    expect((await outpost('get', 'sites', '-o', 'name')).stdout).toBe('site/only-a\n');
    const unknown = await outpost('get', 'sites', '--context', 'c');
    expect([unknown.code, unknown.stderr]).toEqual([1, `error: no context "c" in ${env.OUTPOST_CONFIG}; known contexts: ${contextA()}, b\n`]);
    const badSwitch = await outpost('config', 'use-context', 'c');
    expect([badSwitch.code, badSwitch.stderr]).toEqual([1, `error: no context "c" in ${env.OUTPOST_CONFIG}; known contexts: ${contextA()}, b\n`]);
    expect((await outpost('config', 'get-contexts', '-o', 'name')).stdout).toBe(`${contextA()}\nb\n`);
  });

  it('reads an old single-hub config file as the context "default"', async () => {
    const old = join(dir, 'old-config');
    writeFileSync(old, `hub: ${a.url}\ntoken: ${a.adminToken}\ncaCert: ${JSON.stringify(a.caCertPem)}\n`);
    const oldEnv = { OUTPOST_CONFIG: old };
    expect((await run(OUTPOST, ['get', 'sites', '-o', 'name'], { env: oldEnv })).stdout).toBe('site/only-a\n');
    expect((await run(OUTPOST, ['config', 'get-contexts'], { env: oldEnv })).stdout).toBe(`CURRENT   NAME      HUB\n*         default   ${a.url}\n`);
    // Logging in to a second hub keeps the old one, now as a named context.
    expect((await run(OUTPOST, ['login', '--hub', b.url, '--token-file', join(b.dataDir, 'admin.token'), '--ca-file', join(b.dataDir, 'ca.crt'), '--name', 'b'], { env: oldEnv })).code).toBe(0);
    expect((await run(OUTPOST, ['--context', 'default', 'get', 'sites', '-o', 'name'], { env: oldEnv })).stdout).toBe('site/only-a\n');
  });

  it('lists with -l, --field-selector, -A, -o wide, name and jsonpath', async () => {
    await outpostIn(site('kiel', 'Kiel', { tier: 'edge', region: 'north' }) + '---\n' + site('ulm', 'Ulm', { tier: 'core', region: 'south' }), 'apply', '-f', '-');
    expect((await outpost('get', 'sites', '-l', 'tier=edge', '-o', 'name')).stdout).toBe('site/kiel\n');
    expect((await outpost('get', 'sites', '-l', 'tier=core,region=south', '-o', 'name')).stdout).toBe('site/ulm\n');
    expect((await outpost('get', 'sites', '-l', 'tier=core,region=north', '-o', 'name')).stdout).toBe('');
    expect((await outpost('get', 'sites', '--field-selector', 'metadata.name=ulm', '-o', 'name')).stdout).toBe('site/ulm\n');
    expect((await outpost('get', 'sites', '-o', 'jsonpath={.items[*].metadata.name}')).stdout).toBe('kiel only-a ulm');
    expect((await outpost('get', 'sites', '--field-selector', 'metadata.name!=only-a', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.location}{"\\n"}{end}')).stdout).toBe('kiel\tKiel\nulm\tUlm\n');
    expect((await outpost('get', 'site', 'kiel', '-o', 'jsonpath={.metadata.labels.region}')).stdout).toBe('north');
    // The hub judges a selector: one it cannot read is its error, exit 1.
    const badSelector = await outpost('get', 'sites', '-l', 'tier in (edge');
    expect(badSelector.code).toBe(1);
    expect(badSelector.stderr).toMatch(/^error: labelSelector "tier in \(edge" is not a label selector: found end of string in the values of 'in'/);
    // Set-based selectors as kubectl's: in, notin, !key.
    expect((await outpost('get', 'sites', '-l', 'tier in (edge,core),!nope', '-o', 'name')).stdout).toBe('site/kiel\nsite/ulm\n');
    expect((await outpost('get', 'sites', '-l', 'tier notin (edge)', '-o', 'name')).stdout).toBe('site/only-a\nsite/ulm\n');
    const badPath = await outpost('get', 'sites', '-o', 'jsonpath={.items[*]');
    expect([badPath.code, badPath.stderr.split('\n')[0]]).toEqual([2, `error: option '-o, --output <format>' argument 'jsonpath={.items[*]' is invalid. error parsing jsonpath {.items[*]: unclosed action (a "{" without its "}")`]);
    const badFormat = await outpost('get', 'sites', '-o', 'xml');
    expect([badFormat.code, badFormat.stderr.split('\n')[0]]).toEqual([2, "error: option '-o, --output <format>' argument 'xml' is invalid. use one of wide, name, yaml, json, jsonpath=TEMPLATE (or leave -o out for a table)"]);

    expect((await outpost('apply', '-f', MANIFEST)).code).toBe(0);
    const wide = (await outpost('get', 'clusters', '-A', '-o', 'wide')).stdout.split('\n');
    expect(wide[0]).toMatch(/^PROJECT\s+NAME\s+VERSION\s+DATACENTER\s+MODE\s+PHASE\s+CONDITIONS\s+REPLICAS\s+ENDPOINT\s+OPERATION\s+AGE$/);
    expect(wide[1]).toMatch(/^demo\s+pos\s+1\.33\.0\s+hamburg-stores\s+kubeadm\s+\S+\s+\S+\s+1\s+<none>\s+<none>\s+\d+s$/);
    expect((await outpost('get', 'clusters', '-n', 'demo', '-o', 'name')).stdout).toBe('cluster/pos\n');
    expect((await outpost('get', 'cluster/pos', '-n', 'demo', '-o', 'jsonpath={.spec.datacenter}')).stdout).toBe('hamburg-stores');
    const both = await outpost('get', 'clusters', '-n', 'demo', '-A');
    expect([both.code, both.stderr]).toEqual([2, 'error: -n PROJECT and -A (all projects) do not go together: choose one\n']);
    const named = await outpost('get', 'cluster', 'pos', '-A');
    expect([named.code, named.stderr]).toEqual([2, 'error: clusters live in a project: add -n PROJECT (-A lists every project; it cannot name one object)\n']);
  });

  it('watches: the list, then each change, until interrupted', async () => {
    const watch = (...args: string[]) => new Proc(spawn(process.execPath, [OUTPOST, 'get', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    const table = watch('sites', '-l', 'tier=edge', '-w');
    const names = watch('sites', '-w', '-o', 'name');
    const one = watch('site', 'kiel', '-w', '-o', 'jsonpath={.metadata.name}={.spec.location}{"\\n"}');
    try {
      await waitFor('the watches to list', () => table.stdout.includes('kiel') && names.stdout.includes('site/ulm') && one.stdout.includes('kiel=Kiel'));
      await outpostIn(site('kiel', 'Kiel harbour', { tier: 'edge' }) + '---\n' + site('flensburg', 'Flensburg', { tier: 'edge' }), 'apply', '-f', '-');
      expect((await outpost('delete', 'site', 'flensburg')).code).toBe(0);
      await waitFor('the changes in the watches', () => table.stdout.split('\n').length >= 6 && names.stdout.split('\n').length >= 8 && one.stdout.includes('Kiel harbour'));
      const rows = table.stdout.trimEnd().split('\n');
      expect(rows.slice(0, 2).map((r) => r.split(/\s{3,}/).slice(0, 3))).toEqual([['NAME', 'LOCATION', 'AGENT'], ['kiel', 'Kiel', '<none>']]);
      // Each change is one row lined up with the first ones; the header is not repeated.
      expect(rows.slice(2).map((r) => r.split(/\s{3,}/).slice(0, 2))).toEqual([['kiel', 'Kiel harbour'], ['flensburg', 'Flensburg'], ['flensburg', 'Flensburg']]);
      expect(rows[2]!.indexOf('Kiel harbour')).toBe(rows[0]!.indexOf('LOCATION'));
      expect(names.stdout).toBe('site/kiel\nsite/only-a\nsite/store-0412\nsite/ulm\nsite/kiel\nsite/flensburg\nsite/flensburg\n');
      expect(one.stdout).toBe('kiel=Kiel\nkiel=Kiel harbour\n');
    } finally {
      // Ctrl-C and SIGTERM end a watch cleanly.
      expect(await table.kill('SIGINT')).toBe(0);
      expect(await names.kill('SIGTERM')).toBe(0);
      expect(await one.kill('SIGINT')).toBe(0);
    }
    expect(table.stderr + names.stderr + one.stderr).toBe('');
  });

  it('resumes a watch the hub ends, from the last change it saw, missing none and repeating none', async () => {
    const w = new Proc(spawn(process.execPath, [OUTPOST, '--context', 'b', 'get', 'sites', '-w', '-o', 'name'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await new Promise((r) => setTimeout(r, 2500));
      expect(w.alive).toBe(true);
      await outpostIn(site('resumed', 'R'), '--context', 'b', 'apply', '-f', '-');
      await new Promise((r) => setTimeout(r, 2500));
      await outpostIn(site('resumed', 'R2'), '--context', 'b', 'apply', '-f', '-');
      await waitFor('both changes through resumed watches', () => w.stdout.split('\n').filter(Boolean).length >= 2);
      await new Promise((r) => setTimeout(r, 1500));
      expect(w.stdout).toBe('site/resumed\nsite/resumed\n');
    } finally {
      expect(await w.kill('SIGINT')).toBe(0);
    }
    expect(w.stderr).toBe('');
  });

  it('describes an object: metadata, spec, status, conditions with times, last operation', async () => {
    const text = (await outpost('describe', 'cluster', 'pos', '-n', 'demo')).stdout;
    expect(text).toMatch(/^Name:\s+pos\nProject:\s+demo\nKind:\s+Cluster\nAPI Version:\s+outpost\.dev\/v1alpha1\nLabels:\s+<none>\nAnnotations:\s+<none>\nUID:\s+\S+\nResource Version:\s+\d+\nGeneration:\s+1\nCreated:\s+\S+Z \(\d+s ago\)\n/);
    expect(text).toContain('\nSpec:\n  Version:     1.33.0\n  Datacenter:  hamburg-stores\n  Control Plane:\n    Mode:      kubeadm\n    Replicas:  1\n');
    expect(text).toMatch(/\nConditions:\n  Type\s+Status\s+Reason\s+Last Transition\s+Message\n  ----\s+------\s+------\s+---------------\s+-------\n  ReleaseAvailable\s+False\s+NoRelease\s+\S+Z \(\d+s ago\)\s+no Release 1\.33\.0/);
    expect(text).toMatch(/\nLast Operation:\n  <none>\nLast Errors:\n  <none>\n$/);
    const sites = (await outpost('describe', 'sites', '-l', 'tier=edge')).stdout;
    expect(sites).toMatch(/^Name:\s+kiel\n/);
    expect(sites).toContain('Labels:            tier=edge\n');
    expect(sites).toContain('\nSpec:\n  Location:  Kiel harbour\n');
    const missing = await outpost('describe', 'site', 'nope');
    expect([missing.code, missing.stderr]).toEqual([1, 'error: Site "nope" not found\n']);
  });

  it("diffs a file against the live objects by the hub's dry run, with kubectl diff's exit codes, writing nothing", async () => {
    const revision = async (): Promise<number> => (await a.api().call<{ revision: number }>('GET', '/version')).revision;
    const before = await revision();
    const same = await outpost('diff', '-f', MANIFEST);
    expect(same).toEqual({ code: 0, stdout: '', stderr: '' });
    const changed = file('changed.yaml', readFileSync(MANIFEST, 'utf8').replace('"Hamburg, store 0412"', '"Hamburg, store 412"') + '---\n' + site('bremen', 'Bremen'));
    const d = await outpost('diff', '-f', changed);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(1);
    const [existing, created] = d.stdout.split(/(?=^diff -u -N )/m);
    expect(existing).toMatch(
      /^diff -u -N live\/outpost\.dev\.v1alpha1\.Site\.store-0412 merged\/outpost\.dev\.v1alpha1\.Site\.store-0412\n--- live\/outpost\.dev\.v1alpha1\.Site\.store-0412\n\+\+\+ merged\/outpost\.dev\.v1alpha1\.Site\.store-0412\n@@ -1,9 \+1,9 @@\n apiVersion: outpost\.dev\/v1alpha1\n kind: Site\n metadata:\n   creationTimestamp: \S+\n-  generation: 1\n\+  generation: 2\n   name: store-0412\n   uid: \S+\n spec:\n-  location: Hamburg, store 0412\n\+  location: Hamburg, store 412\n$/,
    );
    expect(created).toMatch(/^diff -u -N live\/outpost\.dev\.v1alpha1\.Site\.bremen merged\/outpost\.dev\.v1alpha1\.Site\.bremen\n--- live\/\S+\n\+\+\+ merged\/\S+\n@@ -0,0 \+1,\d+ @@\n\+apiVersion: outpost\.dev\/v1alpha1\n\+kind: Site\n/);
    expect(created).toContain('\n+spec:\n+  location: Bremen\n');
    expect(await revision()).toBe(before);
    expect((await outpost('get', 'site', 'bremen')).code).toBe(1);
    // A change the hub refuses: the diff is not known, so exit 2 and the hub's reason.
    const refused = await outpostIn('apiVersion: outpost.dev/v1alpha1\nkind: Datacenter\nmetadata: {name: dc-x}\nspec: {provider: edge, site: no-such-site}\n', 'diff', '-f', '-');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: datacenter\/dc-x: .*site "no-such-site" does not exist/);
    const badFile = await outpost('diff', '-f', join(dir, 'missing.yaml'));
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/^error: cannot read .*missing\.yaml/);
  });

  it('shows the versions of client, hub and wire protocol', async () => {
    expect(await outpost('version')).toEqual({
      code: 0,
      stdout: `Client Version: ${VERSION}\nClient Protocol: ${PROTOCOL}\nServer Version: ${VERSION}\nServer Protocol: ${PROTOCOL}\nServer Revision: ${await a.api().call<{ revision: number }>('GET', '/version').then((v) => v.revision)}\n`,
      stderr: '',
    });
    expect(await outpost('version', '--client', '--context', 'nowhere')).toEqual({ code: 0, stdout: `Client Version: ${VERSION}\nClient Protocol: ${PROTOCOL}\n`, stderr: '' });
    const json = JSON.parse((await outpost('version', '-o', 'json')).stdout) as { clientVersion: { protocol: string }; serverVersion: { version: string; protocol: string } };
    expect([json.clientVersion.protocol, json.serverVersion.version, json.serverVersion.protocol]).toEqual([PROTOCOL, VERSION, PROTOCOL]);
    await b.proc?.kill('SIGTERM');
    try {
      const down = await outpost('version', '--context', 'b');
      expect(down.code).toBe(1);
      expect(down.stdout).toBe(`Client Version: ${VERSION}\nClient Protocol: ${PROTOCOL}\n`);
      expect(down.stderr).toMatch(/^error: cannot reach the hub at https:\/\/127\.0\.0\.1:\d+: /);
    } finally {
      await b.serve();
    }
  });

  it('completes commands, kinds, flags and formats in bash; zsh gets its own script', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'outpost'), `#!/bin/sh\nexec "${process.execPath}" "${OUTPOST}" "$@"\n`);
    chmodSync(join(bin, 'outpost'), 0o755);
    const shellEnv = { ...env, PATH: `${bin}:${process.env.PATH}` };
    // run() starts node on its first argument, so bash is spawned here.
    const sh = (script: string) => new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn('bash', ['-c', script], { env: { ...process.env, ...shellEnv } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    });
    expect(await sh('source <(outpost completion bash); complete -p outpost')).toEqual({ code: 0, stdout: 'complete -o default -F _outpost outpost\n', stderr: '' });
    const complete = async (...words: string[]): Promise<string> => {
      const r = await sh(`source <(outpost completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _outpost; echo "\${COMPREPLY[*]}"`);
      expect(r.stderr).toBe('');
      return r.stdout.trim();
    };
    expect(await complete('outpost', 'g')).toBe('get');
    expect(await complete('outpost', 'get', 'cl')).toBe('clusters cluster cl');
    expect(await complete('outpost', '--context', 'b', 'describe', 'ag')).toBe('agents agent ag');
    expect(await complete('outpost', 'get', 'clusters', '-o', '')).toBe('table wide name yaml json jsonpath=');
    expect(await complete('outpost', 'get', 'clusters', '--w')).toBe('--watch');
    expect(await complete('outpost', 'token', '')).toBe('create list revoke');
    expect(await complete('outpost', 'config', 'use-context', '')).toBe(`${contextA()} b`);
    expect(await complete('outpost', 'diff', '--')).toBe('--filename --context --help');
    expect(await complete('outpost', 'get', 'clusters', '-n', '')).toBe('demo');
    const zsh = (await outpost('completion', 'zsh')).stdout;
    expect(zsh).toMatch(/^#compdef outpost\n/);
    expect(zsh).toContain('compdef _outpost outpost');
    const bad = await outpost('completion', 'fish');
    expect([bad.code, bad.stderr]).toEqual([2, 'error: no completion for "fish": write outpost completion bash, or outpost completion zsh\n']);
  });

  it('lists tokens without secrets, and a revoked API token stops working at once (401)', async () => {
    const made = await outpost('token', 'create', '--api', '--role', 'admin', '--description', 'ci robot');
    const secret = made.stdout.trim();
    const id = secret.split('.')[0]!;
    expect(secret).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16,}$/);
    expect((await a.api(secret).list(findKind('sites')!)).items.length).toBeGreaterThan(0);
    const list = await outpost('token', 'list');
    expect(list.stdout).toMatch(/^NAME\s+TYPE\s+FOR\s+EXPIRES\s+USED\s+AGE\n/);
    expect(list.stdout).toMatch(new RegExp(`\\n${id}\\s+api\\s+admin\\s+<never>\\s+false\\s+\\d+s\\n`));
    const all = (await outpost('token', 'list', '-o', 'json')).stdout + (await outpost('token', 'list', '-o', 'wide')).stdout + (await outpost('get', 'tokens', '-o', 'yaml')).stdout;
    expect(all).toContain('ci robot');
    expect(all).not.toContain(secret.split('.')[1]);
    // The robot's own context works, until its token is revoked.
    const tokenFile = file('robot.token', `${secret}\n`);
    expect((await outpost('login', '--hub', a.url, '--token-file', tokenFile, '--ca-file', join(a.dataDir, 'ca.crt'), '--name', 'robot')).code).toBe(0);
    expect((await outpost('get', 'sites', '-l', 'tier=core', '-o', 'name')).stdout).toBe('site/ulm\n');
    expect(await outpost('token', 'revoke', id, '--context', contextA())).toEqual({ code: 0, stdout: `token/${id} revoked\n`, stderr: '' });
    await expect(a.api(secret).list(findKind('sites')!)).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.status === 401);
    const refused = await outpost('get', 'sites');
    expect([refused.code, refused.stderr]).toEqual([1, 'error: API token not recognised: check the token, or ask an admin for a new one (outpost token create --api)\n']);
    expect((await outpost('token', 'list', '--context', contextA())).stdout).not.toContain(id);
    const again = await outpost('token', 'revoke', id, '--context', contextA());
    expect([again.code, again.stderr]).toEqual([1, `error: token/${id}: no such token (outpost token list shows the tokens there are)\n`]);
    expect((await outpost('config', 'use-context', contextA())).code).toBe(0);
  });

  it('deletes what a file names, dependents first, and says which are gone already', async () => {
    // --force: the cluster's site has no agent to release its finalizer.
    const gone = await outpost('delete', '-f', MANIFEST, '--force');
    expect(gone.stderr).toMatch(/^warning: cluster\/pos deleted without waiting for agent\.outpost\.dev\/site\.store-0412: /);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toBe('cluster/pos deleted (forced)\ndatacenter/hamburg-stores deleted\nsite/store-0412 deleted\nproject/demo deleted\n');
    const again = await outpost('delete', '-f', MANIFEST);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'error: cluster/pos: Cluster "pos" in project "demo" not found\nerror: datacenter/hamburg-stores: Datacenter "hamburg-stores" not found\nerror: site/store-0412: Site "store-0412" not found\nerror: project/demo: Project "demo" not found\n',
    );
    expect(await outpost('delete', '-f', MANIFEST, '--ignore-not-found')).toEqual({ code: 0, stdout: '', stderr: '' });
    const both = await outpost('delete', 'site', 'kiel', '-f', MANIFEST);
    expect([both.code, both.stderr]).toEqual([2, `error: -f ${MANIFEST} names what to delete; leave out "site kiel"\n`]);
    const nothing = await outpost('delete');
    expect([nothing.code, nothing.stderr]).toEqual([2, 'error: say what to delete: KIND NAME, KIND/NAME, or -f FILE\n']);
  });
});
