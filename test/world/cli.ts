// `npm run world -- up|hosts|down|status|kubectl --dir DIR`: the test world's fixtures from the shell. `up`
// starts a seed cluster in the background (its processes are detached and log to DIR/logs) and returns once
// the node is Ready; `hosts` starts kubeadm-capable test hosts the same way; `down` removes everything
// either made, from DIR/world-state.json alone.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { binary, VERSIONS } from './binaries.js';
import { hostManifestsYaml } from './host-manifests.js';
import { startKubeadmHosts } from './kubeadm-hosts.js';
import { writeReleaseDir } from './release-dir.js';
import { missingImages, worldReleasesYaml } from './releases.js';
import { startSeedCluster } from './seed-cluster.js';
import { sh } from './shell.js';
import { loadState, stillRuns, teardown } from './world-state.js';

const program = new Command('world')
  .description(`the Outpost test world: a Kubernetes ${VERSIONS.kubernetes} seed cluster built from source, on this machine`)
  .exitOverride()
  .showHelpAfterError();

const dirOption = ['--dir <dir>', 'the world directory (kubeconfig, logs, state)'] as const;

program
  .command('up')
  .description('start a seed cluster in the background; writes DIR/kubeconfig, and DIR/release.yaml (the Releases of its images)')
  .requiredOption(...dirOption)
  .action(async (o: { dir: string }) => {
    const dir = resolve(o.dir);
    const t0 = Date.now();
    const seed = await startSeedCluster({ dir, detached: true, log: (line) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}\n`) });
    // A Release must name only images the node has: a stale image cache would make it lie.
    const missing = missingImages(sh('ctr', ['-a', seed.containerdSocket, '-n', 'k8s.io', 'images', 'ls', '-q']));
    if (missing.length) {
      await seed.stop();
      throw new Error(`the node lacks ${missing.join(', ')}, which release.yaml would name: run \`npm run world:build\`, then \`up\` again`);
    }
    // after the seed is up: startSeedCluster wants an empty directory, and `down` empties it again
    const releases = join(dir, 'release.yaml');
    writeFileSync(releases, worldReleasesYaml());
    process.stdout.write(
      [
        `seed cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${seed.apiServerUrl}, node ${seed.nodeName}`,
        `  export KUBECONFIG=${seed.kubeconfigPath}`,
        `  kubectl: ${binary('kubectl')} (or: npm run world -- kubectl --dir ${o.dir} get nodes)`,
        `  test image: outpost.local/busybox:test (use --image-pull-policy=Never); default StorageClass ${seed.storageClass}`,
        `  Releases of its images (${VERSIONS.kubernetes}, ${VERSIONS.kubernetesPrevious}): outpost apply -f ${releases}`,
        `  stop it:  npm run world -- down --dir ${o.dir}`,
        '',
      ].join('\n'),
    );
  });

program
  .command('hosts')
  .description('start COUNT kubeadm-capable test hosts in the background (private /etc/kubernetes, /var/lib/kubelet, ..., a systemctl); writes DIR/hosts.yaml, their Host manifests')
  .requiredOption(...dirOption)
  .requiredOption('--count <n>', 'how many hosts', (v) => Number(v))
  .requiredOption('--site <site>', 'the Site the Hosts belong to (spec.site)')
  .requiredOption('--authorized-key <file>', "a public key (OpenSSH authorized_keys line) for the hosts' root: the site agent's")
  .action(async (o: { dir: string; count: number; site: string; authorizedKey: string }) => {
    let key: string;
    try {
      key = readFileSync(o.authorizedKey, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the public key ${o.authorizedKey}: ${(err as Error).message} (give the site agent's .pub file)`, { cause: err });
    }
    if (!/^(ssh-|ecdsa-|sk-)/m.test(key)) throw new Error(`${o.authorizedKey} holds no OpenSSH public key (a line such as "ssh-ed25519 AAAA... comment"): give the .pub file, not the private key`);
    const dir = resolve(o.dir);
    const t0 = Date.now();
    const world = await startKubeadmHosts({ dir, count: o.count, authorizedKeys: key, detached: true, log: (line) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}\n`) });
    const manifests = join(dir, 'hosts.yaml');
    writeFileSync(manifests, hostManifestsYaml(world.hosts, o.site));
    process.stdout.write(
      [
        `${world.hosts.length} hosts up in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${world.bridge} (gateway ${world.gateway}):`,
        ...world.hosts.map((h) => `  ${h.name}  root@${h.address}:${h.port}  ${h.hostKeyFingerprint}  logs ${join(h.dir, 'logs')}`),
        `  Host manifests (site ${o.site}): outpost apply -f ${manifests}`,
        `  ssh by hand: ssh -i ${join(dir, 'client')} root@${world.hosts[0]?.address ?? ''}`,
        `  stop them:  npm run world -- down --dir ${o.dir}`,
        '',
      ].join('\n'),
    );
  });

program
  .command('down')
  .description('stop the world in DIR and remove every process, mount, cgroup, namespace and link it made')
  .requiredOption(...dirOption)
  .action(async (o: { dir: string }) => {
    const state = loadState(resolve(o.dir));
    const t0 = Date.now();
    const left = await teardown(state);
    if (left.length) throw new Error(`could not remove: ${left.join(', ')}`);
    process.stdout.write(`world in ${o.dir} removed in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

program
  .command('status')
  .description('what the world in DIR is, and which of its processes run')
  .requiredOption(...dirOption)
  .action((o: { dir: string }) => {
    const state = loadState(resolve(o.dir));
    for (const [k, v] of Object.entries(state.info)) process.stdout.write(`${k}: ${v}\n`);
    for (const p of state.processes) process.stdout.write(`${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${stillRuns(p) ? 'running' : 'gone'}\n`);
  });

program
  .command('kubectl')
  .description('run the built kubectl against the world in DIR')
  .requiredOption(...dirOption)
  .argument('<args...>', 'kubectl arguments (put -- before flags)')
  .allowUnknownOption()
  .action((args: string[], o: { dir: string }) => {
    const state = loadState(resolve(o.dir));
    const kubeconfig = state.info.kubeconfig;
    if (!kubeconfig) throw new Error(`the world in ${o.dir} never became ready; see ${resolve(o.dir, 'logs')}`);
    const r = spawnSync(binary('kubectl'), ['--kubeconfig', kubeconfig, ...args], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('release')
  .description('write a release directory (release.yaml, bin/, cni/, images/) from what the world built, for `outpost release import DIR`')
  .requiredOption('--dir <dir>', 'the release directory to write')
  .option('--version <version>', `the Kubernetes version: ${VERSIONS.kubernetes} or the previous patch, ${VERSIONS.kubernetesPrevious} (for upgrades)`, VERSIONS.kubernetes)
  .action((o: { dir: string; version: string }) => {
    const r = writeReleaseDir(resolve(o.dir), o.version);
    process.stdout.write(`release ${r.version}: ${r.files} files in ${r.dir}; import it with: outpost release import ${o.dir}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`world: ${(err as Error).message}\n`);
  process.exit(1);
}
