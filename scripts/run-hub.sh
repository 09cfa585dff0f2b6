#!/usr/bin/env bash
# Sets up a fresh checkout and runs a hub: initialises DATA_DIR on first run, then serves until Ctrl-C.
#   bash scripts/run-hub.sh [DATA_DIR] [HOST:PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
data="${1:-./hub-data}"
listen="${2:-127.0.0.1:8443}"
bash scripts/setup.sh >&2
if [ ! -f "$data/ca.crt" ]; then
  node hub/bin/outpost.js hub init --data "$data"
fi
exec node hub/bin/outpost.js hub serve --data "$data" --listen "$listen"
