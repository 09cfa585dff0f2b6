#!/usr/bin/env bash
# Sets up a fresh checkout: the pinned Node.js (scripts/node-env.sh), npm packages,
# generated proto code, and the TypeScript build. Safe to run again: it only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
# npm install, not npm ci: npm 11 leaves other platforms' optional native packages (unrs-resolver's
# bindings, via eslint-plugin-import-x) out of the lock file and then refuses `npm ci` for it
# (npm/cli#4828). `npm install` still follows the lock for everything it holds.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npm run build
