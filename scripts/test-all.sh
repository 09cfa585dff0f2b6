#!/usr/bin/env bash
# Sets up everything and runs every test tier: unit, integration, e2e (test world).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
bash scripts/setup.sh
if [ -f test/world/setup.sh ]; then bash test/world/setup.sh; fi
npx tsc -p tsconfig.check.json   # test code is type-checked too
npx eslint .
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" || status=$?
# One plain closing line, whatever the reporter prints above it.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$results" || true
exit "$status"
