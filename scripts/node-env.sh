# Sourced by the project's scripts (never run on its own): puts the pinned Node.js (.node-version, a 24 LTS
# release) first on PATH. A machine with another Node gets the pinned one from the npm registry's
# node-<os>-<arch> package, which carries the official binary, into ~/.cache/outpost-node/<version>
# (OUTPOST_NODE_HOME), once. npm and npx are the machine's own and run on the pinned node through PATH.
outpost_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outpost_node_version="$(tr -d ' \n' < "$outpost_root/.node-version")"
if [ "$(node --version 2>/dev/null || true)" != "v$outpost_node_version" ]; then
  case "$(uname -m)" in
    x86_64) outpost_node_arch=x64 ;;
    aarch64 | arm64) outpost_node_arch=arm64 ;;
    *) echo "error: no Node.js package for $(uname -m); install Node.js $outpost_node_version yourself and put it first on PATH" >&2; return 1 ;;
  esac
  outpost_node_pkg="node-$(uname -s | tr '[:upper:]' '[:lower:]')-$outpost_node_arch"
  outpost_node_dir="${OUTPOST_NODE_HOME:-$HOME/.cache/outpost-node}/$outpost_node_version"
  if [ ! -x "$outpost_node_dir/bin/node" ]; then
    if ! command -v npm > /dev/null; then
      echo "error: Node.js $outpost_node_version is needed and npm is missing to fetch it: apt-get install npm (or install Node.js $outpost_node_version)" >&2
      return 1
    fi
    echo "installing Node.js $outpost_node_version ($outpost_node_pkg from the npm registry) into $outpost_node_dir" >&2
    rm -rf "$outpost_node_dir.tmp"
    npm install --prefix "$outpost_node_dir.tmp" --no-save --no-audit --no-fund --no-package-lock "$outpost_node_pkg@$outpost_node_version" >&2
    mkdir -p "$outpost_node_dir.tmp/bin"
    ln -sf "../node_modules/$outpost_node_pkg/bin/node" "$outpost_node_dir.tmp/bin/node"
    "$outpost_node_dir.tmp/bin/node" --version > /dev/null
    rm -rf "$outpost_node_dir" && mv "$outpost_node_dir.tmp" "$outpost_node_dir"
  fi
  export PATH="$outpost_node_dir/bin:$PATH"
fi
unset outpost_root outpost_node_version outpost_node_arch outpost_node_pkg outpost_node_dir
