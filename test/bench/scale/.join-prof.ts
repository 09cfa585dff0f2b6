import { ScaleRun } from './scale-run.js';
const run = await ScaleRun.prepare({ agents: Number(process.argv[2] ?? 3000), workers: 1, gatewayProcesses: 0, log: (l) => process.stderr.write(l + '\n'), hubNodeArgs: ['--cpu-prof', '--cpu-prof-dir=/tmp/prof/join'] });
const s = await run.connectAll(600_000);
process.stderr.write(`connected in ${s} s\n`);
await run.stop();
process.exit(0);
