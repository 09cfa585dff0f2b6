#!/usr/bin/env bash
# Sets up everything and runs every test tier: unit, integration, e2e (test world).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f test/world/setup.sh ]; then bash test/world/setup.sh; fi
npx vitest run
