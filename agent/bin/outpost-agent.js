#!/usr/bin/env node
// Checked before anything loads: on another Node the failure would be an obscure one, far from its cause.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`error: Outpost needs Node.js 24 (this is ${process.version}); bash scripts/setup.sh installs it, then put ~/.cache/outpost-node/<version>/bin first on PATH\n`);
  process.exit(1);
}
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
