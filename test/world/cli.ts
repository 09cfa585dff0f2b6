// `npm run world -- up|down|status|kubectl --dir DIR`: the seed cluster fixture from the shell. `up`
// starts it in the background (its processes are detached and log to DIR/logs) and returns once the node
// is Ready; `down` removes everything it made, from DIR/world-state.json alone.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { binary, VERSIONS } from './binaries.js';
import { writeReleaseDir } from './release-dir.js';
import { startSeedCluster } from './seed-cluster.js';
import { loadState, stillRuns, teardown } from './world-state.js';

const program = new Command('world')
  .description(`the Outpost test world: a Kubernetes ${VERSIONS.kubernetes} seed cluster built from source, on this machine`)
  .exitOverride()
  .showHelpAfterError();

const dirOption = ['--dir <dir>', 'the world directory (kubeconfig, logs, state)'] as const;

program
  .command('up')
  .description('start a seed cluster in the background; writes DIR/kubeconfig')
  .requiredOption(...dirOption)
  .action(async (o: { dir: string }) => {
    const dir = resolve(o.dir);
    const t0 = Date.now();
    const seed = await startSeedCluster({ dir, detached: true, log: (line) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${line}\n`) });
    process.stdout.write(
      [
        `seed cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${seed.apiServerUrl}, node ${seed.nodeName}`,
        `  export KUBECONFIG=${seed.kubeconfigPath}`,
        `  kubectl: ${binary('kubectl')} (or: npm run world -- kubectl --dir ${o.dir} get nodes)`,
        `  test image: outpost.local/busybox:test (use --image-pull-policy=Never)`,
        `  stop it:  npm run world -- down --dir ${o.dir}`,
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
  .action((o: { dir: string }) => {
    const r = writeReleaseDir(resolve(o.dir));
    process.stdout.write(`release ${r.version}: ${r.files} files in ${r.dir}; import it with: outpost release import ${o.dir}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`world: ${(err as Error).message}\n`);
  process.exit(1);
}
