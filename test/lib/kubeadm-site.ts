// A site as an operator sets one up for kubeadm clusters, for e2e tests and benches: a hub with the test
// world's Releases imported from release directories (`outpost release import`), a site agent joined to
// it whose SSH key the world's bare kubeadm-capable hosts authorize, and a Host with a pinned key for
// each. The agent is joined, not started: each test starts it with its own flags.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { site } from '@outpost/agent';
import type { Release } from '@outpost/proto';
import YAML from 'yaml';
import { datacenter, project, site as siteObj } from './fixtures.js';
import { OUTPOST, OUTPOST_AGENT, run, TestAgent, TestHub, type RunResult } from './processes.js';
import { imagesDir, VERSIONS } from '../world/binaries.js';
import { startKubeadmHosts, type KubeadmHost, type KubeadmHosts } from '../world/kubeadm-hosts.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface KubeadmSite {
  hub: TestHub;
  agent: TestAgent;
  world: KubeadmHosts;
  /** The `outpost` CLI's environment (its config, logged in to the hub). */
  env: NodeJS.ProcessEnv;
  outpost(...args: string[]): Promise<RunResult>;
  /** A command's stdout on a host, over SSH with the world's key. */
  ssh(h: KubeadmHost, command: string): Promise<string>;
  /** The world's busybox image imported into a host's containerd, for test workloads. */
  importBusybox(h: KubeadmHost): Promise<void>;
  stop(): Promise<void>;
}

export interface KubeadmSiteOptions {
  /** How many hosts the world starts (host-0, host-1, ...). */
  hosts: number;
  /** The Kubernetes versions whose Releases are imported ("v1.34.4"); default the world's current one. */
  versions?: readonly string[];
  /** The site's name; default shop-1. Its datacenter is "shops", the project "demo". */
  site?: string;
}

export async function startKubeadmSite(o: KubeadmSiteOptions): Promise<KubeadmSite> {
  const siteName = o.site ?? 'shop-1';
  const hub = await TestHub.start();
  let agent: TestAgent | undefined;
  let world: KubeadmHosts | undefined;
  const env = { OUTPOST_CONFIG: join(hub.dir, 'cli-config') };
  const outpost = (...args: string[]) => run(OUTPOST, args, { env, timeoutMs: 300_000 });
  // Each part stopped even when one before it fails (a host whose pods are slow to go, say).
  const stop = async () => {
    try {
      await agent?.stop();
      await world?.stop();
    } finally {
      await hub.stop();
    }
  };
  try {
    const login = await outpost('login', '--hub', hub.url, '--token-file', join(hub.dataDir, 'admin.token'), '--ca-file', join(hub.dataDir, 'ca.crt'));
    if (login.code !== 0) throw new Error(`outpost login: ${login.stderr}`);
    for (const version of o.versions ?? [VERSIONS.kubernetes]) {
      const dir = join(hub.dir, 'release', version);
      const written = spawnSync('npm', ['run', '--silent', 'world', '--', 'release', '--dir', dir, '--version', version], { cwd: ROOT, encoding: 'utf8' });
      if (written.status !== 0) throw new Error(`world release ${version}: ${written.stderr}`);
      // kubeadm's DNS addon runs only where the Release brings CoreDNS: an images cache without its archive
      // would pass every step and fail only at the DNS checks, far from the cause.
      const components = (YAML.parse(readFileSync(join(dir, 'release.yaml'), 'utf8')) as Release).spec?.components ?? {};
      if (components.coredns !== `outpost.local/coredns:${VERSIONS.coredns}`) throw new Error(`the world's images lack CoreDNS (${dir}/release.yaml names ${components.coredns ?? 'none'}): run \`npm run world:build\``);
      const imported = await outpost('release', 'import', dir);
      if (imported.code !== 0) throw new Error(`outpost release import ${dir}: ${imported.stderr}`);
    }
    await hub.apply(project('demo'), siteObj(siteName), datacenter('shops', { site: siteName }));
    agent = await TestAgent.join(hub, { site: siteName }, 'site');
    const key = await run(OUTPOST_AGENT, ['ssh-key', '--data', agent.dataDir]);
    world = await startKubeadmHosts({ count: o.hosts, authorizedKeys: key.stdout });
    for (const h of world.hosts) {
      await hub.apply({ apiVersion: 'outpost.dev/v1alpha1', kind: 'Host', metadata: { name: h.name }, spec: { site: siteName, address: h.address, sshPort: h.port, sshUser: 'root', hostKey: h.hostKeyFingerprint } });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const hosts = world;
  const connect = (h: KubeadmHost) => site.SshSession.connect({ host: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostKeyFingerprint }, { privateKey: hosts.privateKey });
  return {
    hub,
    agent,
    world: hosts,
    env,
    outpost,
    stop,
    async ssh(h, command) {
      const s = await connect(h);
      try {
        return (await s.exec(command)).stdout;
      } finally {
        s.close();
      }
    },
    async importBusybox(h) {
      const archive = readdirSync(imagesDir()).find((f) => f.startsWith('busybox-') && f.endsWith('.tar'));
      if (!archive) throw new Error(`no busybox archive in ${imagesDir()}: run \`npm run world:build\``);
      const s = await connect(h);
      try {
        await s.writeFile('/var/lib/outpost/busybox.tar', { localPath: join(imagesDir(), archive) }, 0o600);
        await s.run('ctr -n k8s.io images import /var/lib/outpost/busybox.tar && rm /var/lib/outpost/busybox.tar');
      } finally {
        s.close();
      }
    },
  };
}
