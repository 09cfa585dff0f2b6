#!/usr/bin/env bash
# Sets up a fresh checkout: npm packages (with better-sqlite3 built from source against local headers),
# generated proto code, and the TypeScript build. Safe to run again: it only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
