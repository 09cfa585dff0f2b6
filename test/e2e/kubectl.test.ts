// Stock kubectl (the test world's, built from source) against a real hub process, through the kubeconfig
// `outpost kubeconfig --hub` prints: apply with kubectl's default validation (the hub validates, Strict),
// explain from the hub's OpenAPI, get with the hub's printer columns, get -w, delete --dry-run=server and
// wait for a condition a real agent reports.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPOST, run, TestAgent, TestHub, waitFor, type RunResult } from '../lib/processes.js';
import { binary } from '../world/binaries.js';

const MANIFEST = resolve(fileURLToPath(new URL('../../deploy/examples/store-0412.yaml', import.meta.url)));

describe('kubectl against the hub', () => {
  let hub: TestHub;
  let agent: TestAgent | undefined;
  let watcher: ChildProcess | undefined;
  let kubeconfig: string;
  let env: NodeJS.ProcessEnv;
  /** kubectl's own arguments: the hub's kubeconfig and a discovery cache of this test's own. */
  const base = (): string[] => ['--kubeconfig', kubeconfig, '--cache-dir', join(hub.dir, 'kube-cache')];
  const kubectl = (...args: string[]): Promise<RunResult> =>
    new Promise((done) => {
      execFile(binary('kubectl'), [...base(), ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => done({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, stderr }));
    });
  const outpost = (...args: string[]) => run(OUTPOST, args, { env });

  beforeAll(async () => {
    hub = await TestHub.start();
    env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
    const login = await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'));
    expect(login.code, login.stderr).toBe(0);
    kubeconfig = join(hub.dir, 'hub.kubeconfig');
    const written = await outpost('kubeconfig', '--hub', '-o', kubeconfig);
    expect(written.code, written.stderr).toBe(0);
    // It holds the API token: readable by its owner only.
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(readFileSync(kubeconfig, 'utf8')).toBe((await outpost('kubeconfig', '--hub')).stdout);
  });
  afterAll(async () => {
    watcher?.kill('SIGTERM');
    await agent?.stop();
    await hub?.stop();
  });

  it('refuses a manifest with an unknown field, naming it, with kubectl\'s default validation done by the hub', async () => {
    const typo = join(hub.dir, 'typo.yaml');
    writeFileSync(typo, 'apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: typo}\nspec: {location: here, loaction: there}\n');
    const r = await kubectl('apply', '-f', typo, '-v=6');
    expect(r.code).toBe(1);
    // kubectl found fieldValidation on the kind's PATCH in /openapi/v3 and left validation to the hub.
    expect(r.stderr).toMatch(/POST.*\/apis\/outpost\.dev\/v1alpha1\/sites\?.*fieldValidation=Strict.*422/);
    expect(r.stderr).toContain('The Site "typo" is invalid: spec.loaction: unknown field (known fields of SiteSpec: location, description)');
    expect((await kubectl('get', 'site', 'typo')).stderr).toMatch(/NotFound/);
  });

  it('applies the quickstart manifest without --validate=false, again unchanged, then a change (a typo in it refused)', async () => {
    const first = await kubectl('apply', '-f', MANIFEST);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('project.outpost.dev/demo created\nsite.outpost.dev/store-0412 created\ndatacenter.outpost.dev/hamburg-stores created\ncluster.outpost.dev/pos created\n');
    const again = await kubectl('apply', '-f', MANIFEST);
    expect(again.stdout).toBe('project.outpost.dev/demo unchanged\nsite.outpost.dev/store-0412 unchanged\ndatacenter.outpost.dev/hamburg-stores unchanged\ncluster.outpost.dev/pos unchanged\n');
    // A change goes as kubectl's three-way merge patch, validated the same way.
    const changed = join(hub.dir, 'site.yaml');
    writeFileSync(changed, 'apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: store-0412}\nspec: {location: "Hamburg, store 0412, back office"}\n');
    expect((await kubectl('apply', '-f', changed)).stdout).toBe('site.outpost.dev/store-0412 configured\n');
    writeFileSync(changed, 'apiVersion: outpost.dev/v1alpha1\nkind: Site\nmetadata: {name: store-0412}\nspec: {location: elsewhere, owner: me}\n');
    const typo = await kubectl('apply', '-f', changed);
    expect([typo.code, typo.stderr.trim()]).toEqual([1, 'The Site "store-0412" is invalid: spec.owner: unknown field (known fields of SiteSpec: location, description)']);
    expect((await kubectl('get', 'site', 'store-0412', '-o', 'jsonpath={.spec.location}')).stdout).toBe('Hamburg, store 0412, back office');
  });

  // kubectl apply --server-side: test/e2e/kubectl-server-side-apply.test.ts.

  it('explains cluster.spec.controlPlane from the hub\'s OpenAPI, with the proto\'s comments', async () => {
    const r = await kubectl('explain', 'cluster.spec.controlPlane');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^GROUP:\s+outpost\.dev\nKIND:\s+Cluster\nVERSION:\s+v1alpha1\n/);
    expect(r.stdout).toContain('FIELD: controlPlane <ControlPlane>');
    expect(r.stdout).toContain('Where and how the control plane runs: hosted on a seed, or kubeadm on site');
    expect(r.stdout).toMatch(/mode\t<string>\n\s+hosted \(pods on a seed\) or kubeadm \(on site hosts\)\./);
    expect(r.stdout).toMatch(/replicas\t<integer>/);
    expect((await kubectl('explain', 'cluster.spec.nonsense')).stderr).toContain('field "nonsense" does not exist');
    // The v2 document, in the protobuf client-go asks for, says the same.
    const v2 = await kubectl('explain', 'cluster.spec.controlPlane', '--output', 'plaintext-openapiv2');
    expect(v2.stderr).toBe('');
    expect(v2.stdout).toMatch(/^KIND:\s+Cluster\nVERSION:\s+outpost\.dev\/v1alpha1\n\nRESOURCE: controlPlane <Object>\n/);
    expect(v2.stdout).toMatch(/mode\t<string>\n\s+hosted \(pods on a seed\) or kubeadm \(on site hosts\)\./);
  });

  it('gets the columns outpost get shows, from the hub\'s Table', async () => {
    const r = await kubectl('get', 'clusters', '-n', 'demo');
    expect(r.stderr).toBe('');
    const [header, row] = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(header).toEqual(['NAME', 'VERSION', 'DATACENTER', 'MODE', 'PHASE', 'CONDITIONS', 'AGE']);
    expect(row!.slice(0, 5)).toEqual(['pos', '1.33.0', 'hamburg-stores', 'kubeadm', '<none>']);
    const ours = (await outpost('get', 'clusters', '-n', 'demo')).stdout.trim().split('\n')[0]!.trim().split(/\s{2,}/);
    expect(ours).toEqual(header);
    // -A adds kubectl's NAMESPACE (the project), from the rows' object metadata.
    const all = await kubectl('get', 'clusters', '-A');
    expect(all.stdout).toMatch(/^NAMESPACE\s+NAME\s+VERSION\s+.*\ndemo\s+pos\s+1\.33\.0\s/);
    // Every kind is in the category "outpost", as workloads are in "all".
    expect((await kubectl('get', 'outpost', '-A', '-o', 'name')).stdout).toContain('cluster.outpost.dev/pos\n');
    const one = await kubectl('get', 'datacenter', 'hamburg-stores');
    expect(one.stdout).toMatch(/^NAME\s+PROVIDER\s+SERVED-BY\s+AGE\nhamburg-stores\s+edge\s+site\/store-0412\s+\d+s\n$/);
  });

  it('reads the hub\'s version with kubectl version', async () => {
    const r = await kubectl('version');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Server Version: v\d+\.\d+\.\d+/m);
  });

  it('leaves the cluster in place after delete --dry-run=server', async () => {
    const r = await kubectl('delete', 'cluster', 'pos', '-n', 'demo', '--dry-run=server');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('cluster.outpost.dev "pos" deleted from demo namespace (server dry run)\n');
    const still = await kubectl('get', 'cluster', 'pos', '-n', 'demo', '-o', 'jsonpath={.metadata.name} {.metadata.deletionTimestamp}');
    expect(still.stdout).toBe('pos ');
  });

  it('watches the condition a real agent reports (get -w), and waits for it', async () => {
    let seen = '';
    watcher = spawn(binary('kubectl'), [...base(), 'get', 'clusters', '-n', 'demo', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
    watcher.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    await waitFor('kubectl get -w to print the cluster', () => /\npos\s+1\.33\.0/.test(seen));
    expect(seen).toMatch(/^NAME\s+VERSION\s+DATACENTER\s+MODE\s+PHASE\s+CONDITIONS\s+AGE\n/);

    agent = (await TestAgent.join(hub, { site: 'store-0412' }, 'site')).start();
    const wait = await kubectl('wait', '--for=condition=Received', 'cluster/pos', '-n', 'demo', '--timeout=60s');
    expect(wait.stderr).toBe('');
    expect(wait.stdout).toBe('cluster.outpost.dev/pos condition met\n');
    await waitFor('kubectl get -w to show Received=True', () => /\npos\s+1\.33\.0\s+hamburg-stores\s+kubeadm\s+\S+\s+\S*Received=True/.test(seen));
    // The header came once: later events' Tables carry no column definitions.
    expect(seen.match(/NAME\s+VERSION/g)).toHaveLength(1);

    const agents = await waitFor('the agent connected in kubectl get agents', async () => {
      const r = await kubectl('get', 'agents');
      return /\ssite\s+store-0412\s+true\s/.test(r.stdout) && r.stdout;
    });
    expect(agents).toMatch(/^NAME\s+ROLE\s+SERVES\s+CONNECTED\s+ACKED\s+VERSION\s+LAST-SEEN\s+REVOKED\s+AGE\n/);
  });
});
