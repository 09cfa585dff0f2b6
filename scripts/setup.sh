#!/usr/bin/env bash
# Sets up a fresh checkout: npm packages (with better-sqlite3 built from source against local headers),
# generated proto code, and the TypeScript build. Safe to run again: it only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm install, not npm ci: npm 11 leaves other platforms' optional native packages (unrs-resolver's
# bindings, via eslint-plugin-import-x) out of the lock file and then refuses `npm ci` for it
# (npm/cli#4828). `npm install` still follows the lock for everything it holds.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npm run build
